"""Registry entries of the local stack: what they build and how a bad setting is reported (fast; nothing loads)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from livekit.agents import APIConnectOptions, llm

import pipeline.local  # noqa: F401  (registers the local providers)
from pipeline.local.piper_tts import PiperTTS
from pipeline.local.providers import DEFAULT_TIMEOUT, PatientLLM
from pipeline.local.whisper_stt import WhisperSTT
from pipeline.registry import BuildContext, Kind, ProviderError, build_one, known
from pipeline.settings import ProviderSpec
from tests.support.openai_server import Reply, ScriptedOpenAI


def build(kind: Kind, tmp_path: Path, **spec: object) -> object:
    ctx = BuildContext(cache_dir=tmp_path, setting=f"profiles.local.{kind}[0]")
    return build_one(kind, ProviderSpec.model_validate(spec), ctx)


def test_entries_are_registered() -> None:
    assert "local-whisper" in known("stt") and "piper" in known("tts") and "llama-cpp" in known("llm")


def test_local_whisper_builds_without_loading(tmp_path: Path) -> None:
    stt = build("stt", tmp_path, provider="local-whisper", model="tiny.en", options={"beam_size": 2})

    assert isinstance(stt, WhisperSTT)
    assert stt.model == "tiny.en" and stt.provider == "faster-whisper"
    assert not stt.capabilities.streaming and not stt.capabilities.interim_results


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"model": "large-v3"}, r"stt\[0\]\.model: unknown local-whisper model 'large-v3'; known: tiny\.en"),
        ({"language": "fr"}, r"\.language: tiny\.en only transcribes English, not 'fr'"),
        ({"options": {"beams": 3}}, r"\.options: unknown option\(s\) beams for 'local-whisper'; known: beam_size"),
        ({"options": {"context_margin_seconds": 0}},
         r"stt\[0\]\.options: context_margin_seconds must be in \(0, 30\], not 0"),
    ],
)
def test_local_whisper_rejects_bad_settings(tmp_path: Path, spec: dict[str, object], message: str) -> None:
    with pytest.raises(ProviderError, match=message):
        build("stt", tmp_path, provider="local-whisper", **spec)


def test_piper_builds_with_the_voice_sample_rate(tmp_path: Path) -> None:
    tts = build("tts", tmp_path, provider="piper", voice="joe", options={"length_scale": 0.9})

    assert isinstance(tts, PiperTTS)
    assert (tts.sample_rate, tts.num_channels, tts.capabilities.streaming) == (22_050, 1, False)


def test_piper_unknown_voice_names_the_setting_and_known_voices(tmp_path: Path) -> None:
    with pytest.raises(ProviderError, match=r"local\.tts\[0\]: unknown piper voice 'coral'; known voices: joe"):
        build("tts", tmp_path, provider="piper", voice="coral")


def test_llama_cpp_unknown_model_lists_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ProviderError, match=r"profiles\.local\.llm\[0\]: unknown llama-cpp model 'gpt-5'"):
        build("llm", tmp_path, provider="llama-cpp", model="gpt-5")


def test_llama_cpp_unknown_option(tmp_path: Path) -> None:
    with pytest.raises(ProviderError, match=r"unknown option\(s\) gpu_layers for 'llama-cpp'; known: chat_format"):
        build("llm", tmp_path, provider="llama-cpp", options={"gpu_layers": 10})


def test_llama_cpp_base_url_that_does_not_answer(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    with pytest.raises(ProviderError, match=r"\.base_url: no OpenAI-compatible server answers at http://127"):
        build("llm", tmp_path, provider="llama-cpp", base_url=f"http://127.0.0.1:{port}/v1")


async def test_llama_cpp_requests_get_the_time_a_busy_cpu_needs(tmp_path: Path) -> None:
    """The session (10 s) or a fallback chain (attempt_timeout) may ask for less; a local request gets at least this."""
    async with ScriptedOpenAI(lambda body: Reply(text="Hello.", first_token_delay=0.6)) as server:
        # the factory checks the server synchronously: off the loop the server runs on
        default = await asyncio.to_thread(build, "llm", tmp_path, provider="llama-cpp", base_url=server.base_url)
        model = await asyncio.to_thread(build, "llm", tmp_path, provider="llama-cpp", base_url=server.base_url,
                                        options={"timeout": 2})
        assert isinstance(default, PatientLLM) and default.min_timeout == DEFAULT_TIMEOUT
        assert isinstance(model, PatientLLM) and model.min_timeout == 2.0
        ctx = llm.ChatContext()
        ctx.add_message(role="user", content=["Hi"])
        async with model.chat(chat_ctx=ctx, conn_options=APIConnectOptions(max_retry=0, timeout=0.2)) as stream:
            text = "".join([chunk.delta.content or "" async for chunk in stream if chunk.delta])
    assert text == "Hello." and len(server.requests) == 1  # answered after 0.6 s, the first time


def test_llama_cpp_timeout_must_be_seconds(tmp_path: Path) -> None:
    with pytest.raises(ProviderError, match=r"llm\[0\]\.options\.timeout: seconds, a positive number, not 'soon'"):
        build("llm", tmp_path, provider="llama-cpp", options={"timeout": "soon"})
