"""CPU per VAD stream: the Silero ONNX plugin, LiveKit's native Silero (livekit-local-inference) and SIMA's inline
stream over the same native model (pipeline/inline_vad.py), in one run.

For each kind, :data:`STREAMS` VAD streams in one process (one VAD object each, as sessions have) are fed a
candidate's speech — a spoken answer with pauses, looped — in 50 ms frames at the rate SIMA's worker asks the room
for (16 kHz), paced in real time as a room's audio track is, for :data:`SECONDS`; every event is read, as LiveKit's
audio recognition does. The process's CPU time over that window, less the pacing loop's own (the same run with no
VAD), divided by streams and seconds, is the share of one core a stream costs. A voice session with a non-streaming
STT runs two streams (the session's and the STT adapter's).

Figures: vad_cpu_percent_per_stream_{onnx,native,inline}, and the ONNX plugin's and LiveKit's native stream's cost
over the inline stream's. (The native model call alone is ~20-70 µs per 32 ms window, 0.1-0.2 % of a core; most of
LiveKit's native stream's cost is the Python around it: a thread hand-off per window, framing, events.)
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import psutil
from livekit import rtc
from livekit.agents import inference, vad
from livekit.plugins import silero

from bench.audio import FRAME_SECONDS, MIC_RATE, utterance
from pipeline.inline_vad import InlineSileroVAD

log = logging.getLogger(__name__)

STREAMS = 20
SECONDS = 10.0
KINDS: dict[str, Callable[[], vad.VAD] | None] = {"none": None, "onnx": silero.VAD.load, "native": inference.VAD,
                                                  "inline": InlineSileroVAD}
_PER_FRAME = int(MIC_RATE * FRAME_SECONDS)


def speech_track(seconds: float) -> np.ndarray:
    """`seconds` of a candidate's track: the spoken phrase, then as long a pause, over and over."""
    phrase = utterance()
    cycle = np.concatenate([phrase, np.zeros(len(phrase), dtype=np.int16)])
    return np.resize(cycle, int(MIC_RATE * seconds))


async def _feed(stream: vad.VADStream | None, track: np.ndarray, started: float) -> None:
    for n, i in enumerate(range(0, len(track) - _PER_FRAME + 1, _PER_FRAME)):
        await asyncio.sleep(max(0.0, started + n * FRAME_SECONDS - time.perf_counter()))
        if stream is not None:
            stream.push_frame(rtc.AudioFrame(data=track[i:i + _PER_FRAME].tobytes(), sample_rate=MIC_RATE,
                                             num_channels=1, samples_per_channel=_PER_FRAME))
    if stream is not None:
        stream.end_input()


async def _drain(stream: vad.VADStream, windows: list[int]) -> None:
    async for ev in stream:
        if ev.type == vad.VADEventType.INFERENCE_DONE:
            windows[0] += 1


async def measure_kind(kind: str, streams: int = STREAMS, seconds: float = SECONDS) -> dict[str, Any]:
    """CPU percent of one core used by `streams` streams of `kind` over `seconds` of real-time audio."""
    make = KINDS[kind]
    track = speech_track(seconds)
    vads = [make() for _ in range(streams)] if make else []
    opened = [v.stream() for v in vads] or [None] * streams
    windows = [0]
    proc = psutil.Process()
    cpu0, t0 = proc.cpu_times(), time.perf_counter()
    started = time.perf_counter() + 0.05
    await asyncio.gather(*(_feed(s, track, started) for s in opened),
                         *(_drain(s, windows) for s in opened if s is not None))
    cpu1, wall = proc.cpu_times(), time.perf_counter() - t0
    for s in opened:
        if s is not None:
            await s.aclose()
    busy = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
    return {"cpu_percent": 100 * busy / wall, "windows": windows[0]}


async def measure(streams: int = STREAMS, seconds: float = SECONDS) -> dict[str, Any]:
    results = {kind: await measure_kind(kind, streams, seconds) for kind in KINDS}
    base = results["none"]["cpu_percent"]
    figures: dict[str, Any] = {"vad_cpu_streams": streams, "vad_cpu_seconds": seconds, "vad_cpu_input_hz": MIC_RATE}
    for kind in ("onnx", "native", "inline"):
        per_stream = max(0.0, results[kind]["cpu_percent"] - base) / streams
        figures[f"vad_cpu_percent_per_stream_{kind}"] = round(per_stream, 3)
        log.info("%s: %.2f %% of a core per stream (%d streams, %.0f %% in all, pacing alone %.1f %%; %d windows)",
                 kind, per_stream, streams, results[kind]["cpu_percent"], base, results[kind]["windows"])
    inline = figures["vad_cpu_percent_per_stream_inline"]
    for kind in ("onnx", "native"):
        figures[f"vad_cpu_{kind}_vs_inline_ratio"] = (
            round(figures[f"vad_cpu_percent_per_stream_{kind}"] / inline, 1) if inline else None)
    return figures


def run() -> dict[str, Any]:
    return asyncio.run(measure())


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    print(run())
