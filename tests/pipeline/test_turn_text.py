"""Text-cued turn detection: the adapter's contract with LiveKit's AudioRecognition and its wiring from the profile.

The whole path (real sessions, real audio, the audio model, early transcription) runs in tests/bench/test_bench.py.
"""

from __future__ import annotations

import pytest
from livekit.agents import AgentSession, inference, llm
from livekit.agents.language import LanguageCode
from livekit.agents.voice.events import UserInputTranscribedEvent, UserStateChangedEvent
from livekit.agents.voice.turn import _StreamingTurnDetector, _StreamingTurnDetectorStream
from livekit.plugins import openai

from pipeline.providers import ProviderStack, build_stack
from pipeline.registry import BuildContext
from pipeline.session import session_options
from pipeline.settings import ProfileSettings
from pipeline.turn_text import ABOVE_ANY_PROBABILITY, TextCuedTurnDetector, TextTurnDetector, listen

KEYS = {"OPENAI_API_KEY": "sk-placeholder"}
EN = LanguageCode("en")


def profile(**turn: object) -> ProfileSettings:
    return ProfileSettings.model_validate({
        "stt": {"provider": "openai"}, "llm": {"provider": "openai"}, "tts": {"provider": "openai"}, **turn})


def final(text: str, *, is_final: bool = True) -> UserInputTranscribedEvent:
    return UserInputTranscribedEvent(transcript=text, is_final=is_final)


async def test_the_stream_keeps_the_models_threshold_unless_the_transcript_ends_unfinished() -> None:
    detector = TextCuedTurnDetector(unlikely_threshold=0.3)
    stream = detector.stream()
    try:
        # AudioRecognition picks its code path by these protocols: it must see a streaming detector and stream
        assert isinstance(detector, _StreamingTurnDetector) and isinstance(stream, _StreamingTurnDetectorStream)
        assert isinstance(detector, inference.TurnDetector)  # so the session still collects its metrics
        assert await stream.unlikely_threshold(EN) == 0.3  # nothing said yet
        detector.heard(final("I built the payments service in Go and"))
        assert await stream.unlikely_threshold(EN) == ABOVE_ANY_PROBABILITY > 1.0
        detector.heard(final("we moved it to Kubernetes", is_final=False))  # interim: not what LiveKit decides on
        detector.heard(final("  "))
        assert await stream.unlikely_threshold(EN) == ABOVE_ANY_PROBABILITY
        detector.heard(final("we moved it to Kubernetes."))
        assert await stream.unlikely_threshold(EN) == 0.3
        # speech again: until its words are in, the last transcript says nothing about where the candidate is
        detector.state_changed(UserStateChangedEvent(old_state="listening", new_state="speaking"))
        assert await stream.unlikely_threshold(EN) == ABOVE_ANY_PROBABILITY
        detector.state_changed(UserStateChangedEvent(old_state="speaking", new_state="listening"))
        assert await stream.unlikely_threshold(EN) == ABOVE_ANY_PROBABILITY
        detector.heard(final("It held."))
        assert await stream.unlikely_threshold(EN) == 0.3
        assert stream.model == "turn-detector-v1-mini" and stream.prediction_timeout > 0  # delegated to the model
    finally:
        await stream.aclose()


async def test_the_text_only_detector_reads_the_users_last_message() -> None:
    detector = TextTurnDetector()
    ctx = llm.ChatContext()
    ctx.add_message(role="user", content="I mostly work in Python.")
    ctx.add_message(role="assistant", content="Which frameworks?")
    assert await detector.predict_end_of_turn(ctx) == 1.0  # the user's words, not the agent's question
    ctx.add_message(role="user", content="Mostly Django and, um")
    assert await detector.predict_end_of_turn(ctx) == 0.0
    assert await detector.predict_end_of_turn(llm.ChatContext()) == 1.0
    assert await detector.unlikely_threshold(EN) == 0.5 and await detector.supports_language(EN)
    detector.state_changed(UserStateChangedEvent(old_state="listening", new_state="speaking"))
    assert await detector.predict_end_of_turn(llm.ChatContext()) == 0.0  # the words of that speech are not in yet


def test_text_cues_are_a_validated_profile_setting() -> None:
    assert profile().text_cues is False
    assert profile(turn_detection="vad", text_cues=True).text_cues
    with pytest.raises(ValueError, match="text_cues needs turn_detection: vad, turn-detector or language-model"):
        profile(turn_detection="stt", text_cues=True)


def test_the_profile_chooses_the_detector_the_session_is_given() -> None:
    cued = profile(turn_detection="turn-detector", text_cues=True, endpointing={"min_delay": 0.5, "max_delay": 2.5})
    stack = build_stack(cued, BuildContext(env=KEYS), "profiles.x")
    one, two = stack.for_session(), stack.for_session()
    for s in (stack, one, two):  # each session's detector its own, and still text-cued
        assert isinstance(s.turn_detector, TextCuedTurnDetector)
    assert one.turn_detector is not two.turn_detector
    turn = session_options(cued, one)["turn_handling"]
    assert turn["turn_detection"] is one.turn_detector and turn["endpointing"] == {"min_delay": 0.5, "max_delay": 2.5}
    plain = build_stack(profile(turn_detection="turn-detector"), BuildContext(env=KEYS), "profiles.x")
    assert type(plain.for_session().turn_detector) is inference.TurnDetector  # switched off: the model alone
    with pytest.raises(ValueError, match="not a TextCuedTurnDetector"):
        session_options(cued, plain)
    vad_stack = build_stack(profile(turn_detection="vad", text_cues=True), BuildContext(env=KEYS), "profiles.x")
    assert vad_stack.turn_detector is None  # no audio model is loaded for the words alone
    mode = session_options(profile(turn_detection="vad", text_cues=True), vad_stack)["turn_handling"]["turn_detection"]
    assert isinstance(mode, TextTurnDetector)
    assert session_options(profile(turn_detection="vad"), vad_stack)["turn_handling"]["turn_detection"] == "vad"


async def test_a_session_using_the_cued_detector_feeds_it_its_final_transcripts() -> None:
    detector = TextCuedTurnDetector()
    session = AgentSession(llm=openai.LLM(api_key="k"), vad=inference.VAD(), turn_handling={"turn_detection": detector})
    listen(session)
    session.emit("user_input_transcribed", final("It was a full disk."))
    assert not detector.unfinished()
    session.emit("user_state_changed", UserStateChangedEvent(old_state="listening", new_state="speaking"))
    assert detector.unfinished()
    # a final transcript while the candidate speaks is of the utterance before: the new words are not in
    session.emit("user_input_transcribed", final("It was a full disk, so"))
    assert detector.words_pending
    session.emit("user_state_changed", UserStateChangedEvent(old_state="speaking", new_state="listening"))
    session.emit("user_input_transcribed", final("The hardest part of that project was"))
    assert detector.unfinished() and not detector.words_pending
    session.emit("user_state_changed", UserStateChangedEvent(old_state="listening", new_state="speaking"))
    session.emit("user_state_changed", UserStateChangedEvent(old_state="speaking", new_state="listening"))
    session.emit("user_input_transcribed", final("It held."))
    assert not detector.unfinished()
    words_only = TextTurnDetector()
    vad_session = AgentSession(llm=openai.LLM(api_key="k"), vad=inference.VAD(),
                               turn_handling={"turn_detection": words_only})
    listen(vad_session)
    vad_session.emit("user_state_changed", UserStateChangedEvent(old_state="listening", new_state="speaking"))
    assert words_only.words_pending
    other = AgentSession(llm=openai.LLM(api_key="k"), vad=inference.VAD(), turn_handling={"turn_detection": "vad"})
    listen(other)  # nothing to feed: no error
    assert ProviderStack(llm=openai.LLM(api_key="k")).turn_detector is None
