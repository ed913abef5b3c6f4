"""Providers from config: swapping a provider, model or voice is a config-only change, and bad config fails early.

Cloud plugins are only constructed here, with placeholder keys, and must not touch the network while doing so.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
import yaml
from livekit.agents import inference, stt
from livekit.plugins import deepgram, openai, silero

from pipeline.early_stt import EarlyTranscription
from pipeline.inline_vad import InlineSileroVAD
from pipeline.providers import ProviderStack, build_stack, check_profile
from pipeline.registry import BuildContext, ProviderError
from pipeline.session import session_options
from pipeline.settings import ProfileSettings
from sima.config import load_config
from tests.pipeline.conftest import ROOT

PLACEHOLDER_KEYS = {"OPENAI_API_KEY": "sk-placeholder", "DEEPGRAM_API_KEY": "dg-placeholder"}

TWO_PROFILES = """
calm:
  stt: {provider: openai, model: whisper-1}
  llm: {provider: openai, model: gpt-4o}
  tts: {provider: openai, model: tts-1, voice: coral}
brisk:
  stt: {provider: openai, model: gpt-4o-transcribe}
  llm: {provider: openai-compatible, model: llama3.1, base_url: "http://127.0.0.1:11434/v1"}
  tts: {provider: openai, model: tts-1, voice: alloy}
"""


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: socket.socket, address: object) -> None:
        raise AssertionError(f"network call while building providers: {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


def test_shipped_cloud_profiles_swap_by_config_only(no_network: None) -> None:
    config = load_config(ROOT / "config.yaml", env={})
    ctx = BuildContext(env=PLACEHOLDER_KEYS)
    first = build_stack(config.profiles["openai"], ctx, "profiles.openai")
    second = build_stack(config.profiles["deepgram"], ctx, "profiles.deepgram")

    # whisper-1 transcribes whole requests: it hears answers piece by piece behind early transcription
    assert isinstance(first.stt, EarlyTranscription) and isinstance(first.stt.wrapped_stt, openai.STT)
    assert first.stt.model == "whisper-1"
    assert isinstance(second.stt, deepgram.STT) and second.stt.model == "nova-3"
    assert isinstance(first.tts, openai.TTS) and first.tts._opts.voice == "coral"
    assert isinstance(second.tts, deepgram.TTS) and second.tts.model == "aura-2-thalia-en"
    assert isinstance(first.llm, openai.LLM) and first.llm.model == "gpt-4o"
    # LiveKit's native Silero, run inline, unless a profile names another VAD
    assert isinstance(first.vad, InlineSileroVAD) and isinstance(second.vad, InlineSileroVAD)


def test_early_transcription_is_a_setting(no_network: None) -> None:
    config = load_config(ROOT / "config.yaml", env={"SIMA_PROFILES__OPENAI__EARLY_TRANSCRIPTION": "{enabled: false}"})
    stack = build_stack(config.profiles["openai"], BuildContext(env=PLACEHOLDER_KEYS), "profiles.openai")
    # one request per utterance, as LiveKit's own adapter does
    assert type(stack.stt) is stt.StreamAdapter and isinstance(stack.stt.wrapped_stt, openai.STT)


def test_voice_and_model_swap_in_two_small_profiles(no_network: None) -> None:
    profiles = {name: ProfileSettings.model_validate(p) for name, p in yaml.safe_load(TWO_PROFILES).items()}
    ctx = BuildContext(env=PLACEHOLDER_KEYS)
    calm = build_stack(profiles["calm"], ctx, "profiles.calm", audio=True)
    brisk = build_stack(profiles["brisk"], ctx, "profiles.brisk", audio=True)
    assert (calm.tts._opts.voice, brisk.tts._opts.voice) == ("coral", "alloy")
    assert (calm.stt.model, brisk.stt.model) == ("whisper-1", "gpt-4o-transcribe")
    assert (calm.llm.model, brisk.llm.model) == ("gpt-4o", "llama3.1")
    assert brisk.llm.provider == "127.0.0.1:11434"  # an OpenAI-compatible server (Ollama) needs no key


def test_every_missing_key_is_reported_at_once() -> None:
    config = load_config(ROOT / "config.yaml", env={})
    with pytest.raises(ProviderError) as err:
        build_stack(config.profiles["deepgram"], BuildContext(env={}), "profiles.deepgram")
    assert str(err.value).splitlines() == [
        "profiles.deepgram.stt[0]: provider 'deepgram' needs an API key: set $DEEPGRAM_API_KEY",
        "profiles.deepgram.llm[0]: provider 'openai' needs an API key: set $OPENAI_API_KEY",
        "profiles.deepgram.tts[0]: provider 'deepgram' needs an API key: set $DEEPGRAM_API_KEY",
    ]


def test_unknown_provider_and_bad_settings_name_their_setting() -> None:
    profile = ProfileSettings.model_validate({
        "stt": {"provider": "whisperx"},
        "llm": [{"provider": "openai", "api_key_env": "GROQ_API_KEY"}, {"provider": "openai-compatible"}],
        "tts": {"provider": "openai", "options": {"pitch": 3}},
    })
    ctx = BuildContext(env={"OPENAI_API_KEY": "sk-placeholder"})
    problems = check_profile(profile, ctx, "profiles.x")
    assert problems[0].startswith("profiles.x.stt[0]: unknown stt provider 'whisperx'; known: ")
    assert "deepgram" in problems[0] and "openai-compatible" in problems[0]
    assert problems[1] == "profiles.x.llm[0]: provider 'openai' needs an API key: set $GROQ_API_KEY"

    fixed = profile.model_copy(update={"stt": [profile.llm[1].model_copy(update={"provider": "openai"})]})
    with pytest.raises(ProviderError) as err:
        build_stack(fixed, BuildContext(env={"OPENAI_API_KEY": "k", "GROQ_API_KEY": "k"}), "profiles.x")
    lines = str(err.value).splitlines()
    assert lines[0] == "profiles.x.llm[1].model: provider 'openai-compatible' needs the model name the server uses"
    assert lines[1].startswith("profiles.x.tts[0].options: ") and "pitch" in lines[1]


def test_text_sessions_build_the_llm_only(tmp_path: Path) -> None:
    profile = ProfileSettings.model_validate({"stt": {"provider": "deepgram"}, "llm": {"provider": "openai"},
                                              "tts": {"provider": "deepgram"}})
    stack = build_stack(profile, BuildContext(env={"OPENAI_API_KEY": "k"}), "profiles.x", audio=False)
    assert stack.stt is None and stack.tts is None and stack.vad is None and isinstance(stack.llm, openai.LLM)


def test_each_session_gets_its_own_vad_object_over_the_loaded_model() -> None:
    """Sessions sharing a VAD object get each other's metrics events (O(N²)); the model itself is shared."""
    stack = ProviderStack(llm=openai.LLM(api_key="k", base_url="http://127.0.0.1:9/v1"), vad=silero.VAD.load())
    one, two = stack.for_session(), stack.for_session()
    assert isinstance(one.vad, silero.VAD) and isinstance(two.vad, silero.VAD)
    assert len({id(stack.vad), id(one.vad), id(two.vad)}) == 3 and one.llm is stack.llm
    assert one.vad._onnx_session is stack.vad._onnx_session
    text_only = ProviderStack(llm=stack.llm)
    assert text_only.for_session() == text_only


@pytest.mark.parametrize(("provider", "kind"), [("silero-native", inference.VAD), ("silero-inline", InlineSileroVAD)])
def test_native_vad_and_turn_detector_are_per_session_objects_with_the_same_settings(
        no_network: None, provider: str, kind: type) -> None:
    profile = ProfileSettings.model_validate({
        "stt": {"provider": "openai"}, "llm": {"provider": "openai"}, "tts": {"provider": "openai"},
        "vad": {"provider": provider, "options": {"min_silence_duration": 0.7}},
        "turn_detection": "turn-detector", "turn_detector": {"unlikely_threshold": 0.3}})
    stack = build_stack(profile, BuildContext(env=PLACEHOLDER_KEYS), "profiles.x")
    one, two = stack.for_session(), stack.for_session()
    for s in (stack, one, two):
        assert isinstance(s.vad, kind) and s.vad.min_silence_duration == 0.7  # above min_delay: kept
        assert isinstance(s.turn_detector, inference.TurnDetector) and s.turn_detector.model == "turn-detector-v1-mini"
    assert len({id(stack.vad), id(one.vad), id(two.vad)}) == 3
    assert len({id(stack.turn_detector), id(one.turn_detector), id(two.turn_detector)}) == 3
    assert asyncio.run(one.turn_detector.unlikely_threshold(None)) == 0.3
    # the session is told to use the model object, with the profile's endpointing
    turn = session_options(profile, one)["turn_handling"]
    assert turn["turn_detection"] is one.turn_detector and turn["endpointing"] == {"min_delay": 0.5, "max_delay": 3.0}
    vad_only = build_stack(profile.model_copy(update={"turn_detection": "vad"}), BuildContext(env=PLACEHOLDER_KEYS),
                           "profiles.x")
    assert vad_only.turn_detector is None and session_options(profile.model_copy(update={"turn_detection": "vad"}),
                                                              vad_only)["turn_handling"]["turn_detection"] == "vad"
    # a shorter VAD silence than min_delay is raised to it, for the session and the STT alike (turn_vad)
    short = build_stack(profile.model_copy(update={"vad": profile.vad.model_copy(
        update={"options": {"min_silence_duration": 0.25}})}), BuildContext(env=PLACEHOLDER_KEYS), "profiles.x")
    assert short.vad.min_silence_duration == short.for_session().vad.min_silence_duration == 0.5


@pytest.mark.parametrize("provider", ["silero-native", "silero-inline"])
def test_a_wrong_native_vad_option_names_its_setting(provider: str) -> None:
    profile = ProfileSettings.model_validate({
        "stt": {"provider": "openai"}, "llm": {"provider": "openai"}, "tts": {"provider": "openai"},
        "vad": {"provider": provider, "options": {"silence": 0.4}}})
    with pytest.raises(ProviderError, match=r"profiles\.x\.vad\.options: .*silence"):
        build_stack(profile, BuildContext(env=PLACEHOLDER_KEYS), "profiles.x")
