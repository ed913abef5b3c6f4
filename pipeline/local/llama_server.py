"""A local llama.cpp model behind llama-cpp-python's OpenAI-compatible server, as a child process on 127.0.0.1.

Cloud and local LLMs then share one code path, `livekit.plugins.openai.LLM(base_url=server.base_url)`. The server
runs `pipeline.local.llama_entry` (llama-cpp-python's server plus the `sima-qwen-tools` chat format, so Qwen2.5's
tool calls arrive as OpenAI `tool_calls`). It is a separate process so model inference never holds the agent's GIL.

Example::

    >>> async with LlamaServer.for_spec(ProviderSpec(provider="llama-cpp", model="qwen2.5-coder-0.5b"),
    ...                                 Path(".cache/sima")) as server:          # doctest: +SKIP
    ...     client = openai.AsyncOpenAI(base_url=server.base_url, api_key="local")

`start()` / `stop()` are the same, synchronous (for sync factories and worker prewarm hooks). Call `start()` from a
thread that outlives the server (main or event-loop thread): on Linux the server is told to exit when the thread
that spawned it dies, so a crashed agent leaves no orphan.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import weakref
from pathlib import Path
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from pipeline.local.qwen_chat import CHAT_FORMAT
from pipeline.local.weights import ensure_gguf
from pipeline.registry import ProviderError
from pipeline.settings import ProviderSpec

log = logging.getLogger(__name__)

_HOST = "127.0.0.1"
SERVER_OPTIONS = {"n_ctx", "n_threads", "chat_format", "startup_timeout"}
_running: weakref.WeakSet[LlamaServer] = weakref.WeakSet()


class LlamaServerError(ProviderError):
    """The server did not start; the message carries the tail of its stderr."""


class LlamaServer:
    """One llama-cpp-python server process serving one GGUF model."""

    def __init__(
        self,
        model_path: Path,
        *,
        model_name: str,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        chat_format: str = CHAT_FORMAT,
        startup_timeout: float = 120.0,
    ) -> None:
        self.model_path = model_path
        self.model_name = model_name
        self.n_ctx = n_ctx
        # llama-cpp-python defaults to half the cores; decoding is the voice-latency bottleneck, so use them all
        self.n_threads = n_threads or os.cpu_count() or 1
        self.chat_format = chat_format
        self.startup_timeout = startup_timeout
        self.port = 0
        self.startup_seconds = 0.0
        self._started_at = 0.0
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=40)

    @classmethod
    def for_spec(cls, spec: ProviderSpec, cache_dir: Path) -> LlamaServer:
        """A server for a `llama-cpp` provider spec: joins/verifies the weights now, starts nothing yet.

        `spec.options` may set `n_ctx`, `n_threads`, `chat_format` (any llama-cpp-python format; default
        `sima-qwen-tools`) and `startup_timeout` (seconds).
        """
        unknown = set(spec.options) - SERVER_OPTIONS
        if unknown:
            raise ProviderError(
                f"llama-cpp: unknown option(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(SERVER_OPTIONS))}"
            )
        model = spec.model or "qwen2.5-coder-0.5b"
        return cls(ensure_gguf(model, cache_dir), model_name=model, **spec.options)

    @property
    def base_url(self) -> str:
        if not self.port:
            raise RuntimeError("LlamaServer is not started")
        return f"http://{_HOST}:{self.port}/v1"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "pipeline.local.llama_entry",
            "--model", str(self.model_path),
            "--model_alias", self.model_name,
            "--host", _HOST,
            "--port", str(self.port),
            "--n_ctx", str(self.n_ctx),
            "--n_threads", str(self.n_threads),
            "--n_threads_batch", str(self.n_threads),
            "--chat_format", self.chat_format,
            # the server default keeps logits for every prompt token (for logprobs, unused here): with Qwen's
            # 152k vocabulary that copy cost more than the prompt evaluation itself
            "--logits_all", "False",
        ]  # fmt: skip

    def start(self) -> None:
        """Start the process and block until `/v1/models` answers (spinner on stderr)."""
        self._spawn()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate (then kill after `timeout` s) and reap the process. Idempotent."""
        proc, self._proc = self._proc, None
        _running.discard(self)
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("llama server pid %d ignored SIGTERM for %.0f s; killing it", proc.pid, timeout)
            proc.kill()
            proc.wait()
        log.info("llama server pid %d stopped", proc.pid)

    async def aclose(self) -> None:
        await asyncio.to_thread(self.stop)

    async def __aenter__(self) -> LlamaServer:
        # spawn on the loop's thread: the child's parent-death signal is tied to the spawning *thread*
        self._spawn()
        try:
            await asyncio.to_thread(self._wait_ready)
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def _spawn(self) -> None:
        if self.running:
            return
        self.port = _free_port()
        self._stderr_tail.clear()
        self._started_at = time.perf_counter()
        self._proc = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent,
        )
        _running.add(self)
        log.info("llama server pid %d starting on port %d: %s", self._proc.pid, self.port, self.model_path.name)
        threading.Thread(target=self._drain, args=(self._proc,), name="llama-server-stderr", daemon=True).start()

    def _drain(self, proc: subprocess.Popen[bytes]) -> None:
        # always read stderr: llama.cpp logs a lot and a full pipe would block the server
        assert proc.stderr is not None
        for raw in proc.stderr:
            line = raw.decode(errors="replace").rstrip()
            self._stderr_tail.append(line)
            log.debug("llama-server: %s", line)

    def _wait_ready(self) -> None:
        url = f"{self.base_url}/models"
        deadline = time.monotonic() + self.startup_timeout
        progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
            console=Console(stderr=True), transient=True,
        )  # fmt: skip
        with progress:
            progress.add_task(f"Starting llama.cpp server ({self.model_name})", total=None)
            while True:
                proc = self._proc
                if proc is None:
                    raise LlamaServerError("llama server was stopped while starting")
                if proc.poll() is not None:
                    raise LlamaServerError(
                        f"llama server exited with code {proc.returncode} while starting:\n{self._tail()}"
                    )
                if answers(url):
                    break
                if time.monotonic() > deadline:
                    raise LlamaServerError(
                        f"llama server did not answer {url} within {self.startup_timeout:.0f} s:\n{self._tail()}"
                    )
                time.sleep(0.1)
        self.startup_seconds = time.perf_counter() - self._started_at
        log.info("llama server ready at %s in %.1f s", self.base_url, self.startup_seconds)

    def _tail(self) -> str:
        time.sleep(0.2)  # let the drain thread catch the last lines
        return "\n".join(self._stderr_tail) or "(no output)"

    def __repr__(self) -> str:
        state = f"pid {self.pid} at {self.base_url}" if self.running else "stopped"
        return f"LlamaServer({self.model_name}, {state})"


def answers(url: str) -> bool:
    """Whether `url` answers 200 within 2 s."""
    try:
        with urllib.request.urlopen(url, timeout=2.0) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False  # not listening yet, or still loading the model


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((_HOST, 0))
        port: int = s.getsockname()[1]
        return port


def _die_with_parent() -> None:
    # Linux: kill the server if the agent process dies without stopping it (crash, SIGKILL), so no orphan keeps
    # the port and ~0.5–1 GB of RAM. SIGKILL, not SIGTERM: uvicorn waits out a running generation on SIGTERM, and
    # a stateless model server has nothing to save.
    if sys.platform.startswith("linux"):
        libc: Any = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@atexit.register
def _stop_all() -> None:
    for server in list(_running):
        server.stop()
