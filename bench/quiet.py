"""Keep per-request and per-session chatter out of the benchmark log, and LiveKit notices a benchmark expects."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

# the bench speaker plays instantly and cannot pause; LiveKit says so once per session
EXPECTED = ("audio output does not support pause",)
# one line per HTTP request, state-machine step or session start: thousands in a benchmark
CHATTY = ("httpx", "httpx2", "transitions", "pipeline.session", "storage", "evaluation", "sima")


class _Expected(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not any(text in record.getMessage() for text in EXPECTED)


@contextlib.contextmanager
def quiet_livekit() -> Iterator[None]:
    livekit = logging.getLogger("livekit.agents")
    expected = _Expected()
    livekit.addFilter(expected)
    saved = {name: logging.getLogger(name).level for name in CHATTY}
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        yield
    finally:
        livekit.removeFilter(expected)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
