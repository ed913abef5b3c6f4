"""The words-reading turn detector on the real Qwen2.5 0.5B (pipeline/turn_lm.py): thinking pauses read as
unfinished, finished answers as finished, and the context cache changes no probability."""

from __future__ import annotations

from pathlib import Path

import pytest
from livekit.agents import AgentSession, inference, llm
from livekit.agents.voice.events import UserInputTranscribedEvent, UserStateChangedEvent
from livekit.plugins import openai

from pipeline.providers import build_stack
from pipeline.registry import BuildContext
from pipeline.session import session_options
from pipeline.settings import ProfileSettings
from pipeline.turn_lm import CompletionModel, LanguageTurnDetector, prompt

THRESHOLD = 0.003  # the shipped unlikely_threshold (pipeline/settings.py TurnModelSettings)
QUESTION = "Tell me about a production incident you handled."
# none of these is in bench/data/turn_answers.yaml: the detector is not tested on what it was tuned on
MID_THOUGHT = [
    "The first thing I did was open",
    "We traced it to a config change in",
    "After that I wrote",
    "The root cause turned out to be a race between",
    "I spent most of the night rebuilding",
]
FINISHED = [
    "The first thing I did was open the dashboard and check the error rate.",
    "We traced it to a config change in the load balancer and reverted it within ten minutes.",
    "After that I wrote the postmortem and we added an alert for it.",
]


@pytest.fixture(scope="module")
def turn_model(gguf: tuple[Path, float]) -> CompletionModel:
    return CompletionModel.load(gguf[0])


@pytest.mark.parametrize("said", MID_THOUGHT)
def test_a_thought_cut_at_a_verb_or_preposition_reads_as_unfinished(turn_model: CompletionModel, said: str) -> None:
    assert turn_model.end_probability(QUESTION, said) < THRESHOLD


@pytest.mark.parametrize("said", FINISHED)
def test_a_finished_answer_reads_as_finished(turn_model: CompletionModel, said: str) -> None:
    assert turn_model.end_probability(QUESTION, said) > THRESHOLD


def test_a_long_answer_is_judged_by_its_last_words(turn_model: CompletionModel) -> None:
    before = " ".join(FINISHED[:2])  # more words than the model reads: only the window at the end counts
    assert turn_model.end_probability(QUESTION, f"{before} {MID_THOUGHT[3]}") < THRESHOLD
    assert turn_model.end_probability(QUESTION, f"{before} {FINISHED[2]}") > THRESHOLD
    assert prompt(QUESTION, f"{before} {FINISHED[2]}") == prompt(QUESTION, f"Earlier words. {FINISHED[2]}")


def test_the_context_cache_changes_no_probability(turn_model: CompletionModel, gguf: tuple[Path, float]) -> None:
    answer = FINISHED[1].split()
    # read piece by piece, as the detector does while the candidate speaks (each request reuses the last one's start)
    cached = [turn_model.end_probability(QUESTION, " ".join(answer[:n])) for n in (4, 9, len(answer))]
    fresh = CompletionModel(gguf[0])  # a model with nothing cached reads each text whole
    whole = []
    for n in (4, 9, len(answer)):
        fresh._llama.reset()
        whole.append(fresh.end_probability(QUESTION, " ".join(answer[:n])))
    # batches of another size round differently in the quantised kernels: about 1 % apart, never more
    assert cached == pytest.approx(whole, rel=0.05, abs=1e-3)


async def test_the_detector_reads_the_words_first_then_the_model(turn_model: CompletionModel) -> None:
    detector = LanguageTurnDetector(turn_model, unlikely_threshold=THRESHOLD).for_session()
    session = AgentSession(llm=openai.LLM(api_key="k"), vad=inference.VAD(), turn_handling={"turn_detection": detector})
    detector.listen(session)
    # an interim transcript while the candidate speaks is read at once (the end of the turn finds it cached)
    session.emit("user_input_transcribed", UserInputTranscribedEvent(transcript=MID_THOUGHT[0], is_final=False))

    def turn(said: str) -> llm.ChatContext:
        ctx = llm.ChatContext()
        ctx.add_message(role="assistant", content=QUESTION)
        ctx.add_message(role="user", content=said)
        return ctx

    assert await detector.predict_end_of_turn(turn("We moved it to Kubernetes because")) == 0.0  # the words alone
    assert await detector.predict_end_of_turn(turn(MID_THOUGHT[0])) < THRESHOLD
    assert await detector.predict_end_of_turn(turn(FINISHED[0])) > THRESHOLD
    assert await detector.unlikely_threshold(None) == THRESHOLD
    await detector.aclose()


async def test_the_question_is_read_when_the_candidate_starts_to_answer(turn_model: CompletionModel) -> None:
    detector = LanguageTurnDetector(turn_model, unlikely_threshold=THRESHOLD).for_session()
    session = AgentSession(llm=openai.LLM(api_key="k"), vad=inference.VAD(), turn_handling={"turn_detection": detector})
    detector.listen(session)
    turn_model._llama.reset()
    session.emit("user_state_changed", UserStateChangedEvent(old_state="listening", new_state="speaking"))
    await detector.aclose()  # waits for the reading
    # the chat up to the answer's first word is in the model's cache: the end of the turn reads only the answer
    asked = turn_model._llama.tokenize(prompt("", "").encode(), add_bos=False, special=True)
    assert list(turn_model._llama.input_ids[:turn_model._llama.n_tokens]) == asked


def test_a_language_model_profile_loads_the_model_once_and_gives_each_session_a_detector(
        model_cache: Path, gguf: tuple[Path, float]) -> None:
    profile = ProfileSettings.model_validate({
        "stt": {"provider": "openai"}, "llm": {"provider": "openai"}, "tts": {"provider": "openai"},
        "turn_detection": "language-model", "turn_model": {"unlikely_threshold": 0.02}})
    stack = build_stack(profile, BuildContext(cache_dir=model_cache, env={"OPENAI_API_KEY": "sk-placeholder"}),
                        "profiles.x")
    one, two = stack.for_session(), stack.for_session()
    assert isinstance(one.turn_detector, LanguageTurnDetector) and isinstance(two.turn_detector, LanguageTurnDetector)
    assert one.turn_detector is not two.turn_detector
    assert one.turn_detector.turn_model is two.turn_detector.turn_model is CompletionModel.load(gguf[0])
    turn = session_options(profile, one)["turn_handling"]
    assert turn["turn_detection"] is one.turn_detector and one.turn_detector.threshold == 0.02


def test_a_reading_that_fills_the_cache_gives_way_to_a_decision(turn_model: CompletionModel) -> None:
    import threading

    turn_model._llama.reset()
    long_question = " ".join([QUESTION] * 30)  # a few hundred tokens read cold: long enough to be overtaken
    warm: list[float | None] = []
    reader = threading.Thread(target=lambda: warm.append(
        turn_model.end_probability(long_question, FINISHED[0], give_way=True)))
    reader.start()
    while not turn_model._lock.locked():
        pass
    decided = turn_model.end_probability(QUESTION, MID_THOUGHT[1])
    reader.join()
    assert warm == [None], "the cache-filling reading stopped for the decision"
    assert decided is not None and decided < THRESHOLD
