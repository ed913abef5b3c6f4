"""SIMA's overhead on a voice turn: its interview agent against a bare LiveKit agent, same providers, same run.

End of the candidate's speech → first agent audio frame, in two pairs that run at once over identical providers of
fixed latency (STT 150 ms, LLM first token 300 ms over real HTTP, TTS first byte 100 ms) and LiveKit's native
Silero VAD, turns interleaved and their order rotated each round so the machine's noise falls on all alike:

* **shipped mode**: SIMA guided + verbatim (the local profile's mode: the code takes the engine step, the LLM
  writes a short acknowledgement, the code speaks the step's exact words) against a bare `livekit.agents.Agent`
  with the same session options (guided mode turns preemptive generation off). One LLM call per turn each.
* **tool mode, a tool call every turn**: SIMA's tool-driven agent, whose LLM calls `next_question` before each reply,
  against a bare agent whose LLM calls a `next_question` tool of its own. Two LLM calls per turn each.

Both SIMA sessions are the real InterviewSession (engine, shipped banks and templates, transcript capture,
persistence to SQLite and the journal); an interview about to end is replaced by a fresh one, so every measured turn
is a mid-interview turn. Figures: pipeline_overhead_ratio (shipped mode, P50 ÷ P50; target ≤ 1.05) and
pipeline_overhead_ratio_tools, with each side's P50/P90 and the paired per-round difference.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path
from typing import Any

from bench.llm_server import TOOL_MARKER, llm_server
from bench.quiet import quiet_livekit
from bench.stats import percentile
from bench.subjects import ANSWER, LLM_FIRST_TOKEN, BenchStack, Subject, bare_subject, shipped_vad, sima_subject

log = logging.getLogger(__name__)

WARMUP_TURNS = 2  # per subject, not counted: first HTTP connections, first template renders
VOICE_TURNS = 20
TARGET = 1.05
PAIRS = {"": ("bare-guided-settings", "sima-verbatim"), "_tools": ("bare-tool", "sima-tools")}


async def _rounds(subjects: list[Subject], turns: int) -> dict[str, list[float]]:
    """`turns` voice turns per subject, interleaved, the order rotated each round."""
    samples: dict[str, list[float]] = {s.name: [] for s in subjects}
    for r in range(turns):
        order = subjects[r % len(subjects):] + subjects[:r % len(subjects)]
        for subject in order:
            if subject.near_end:  # each turn moves the interview on: keep measuring mid-interview turns
                fresh = await subject.renewed()
                subjects[subjects.index(subject)] = fresh
                subject = fresh
            samples[subject.name].append(await subject.voice_turn())
        if (r + 1) % 5 == 0:
            log.info("%d/%d rounds; P50 %s", r + 1, turns,
                     ", ".join(f"{k} {percentile(v, 50):.3f} s" for k, v in samples.items()))
    return samples


def _figures(samples: dict[str, list[float]]) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for suffix, (bare_name, sima_name) in PAIRS.items():
        bare, sima = samples[bare_name], samples[sima_name]
        paired = [s - b for s, b in zip(sima, bare, strict=True)]  # same round, one after the other
        mode = "tools" if suffix else "shipped"
        figures |= {
            f"pipeline_{mode}_bare_s_p50": round(percentile(bare, 50), 3),
            f"pipeline_{mode}_sima_s_p50": round(percentile(sima, 50), 3),
            f"pipeline_{mode}_bare_s_p90": round(percentile(bare, 90), 3),
            f"pipeline_{mode}_sima_s_p90": round(percentile(sima, 90), 3),
            f"pipeline_overhead{suffix}_ms_paired_p50": round(percentile(paired, 50) * 1000, 1),
            f"pipeline_overhead_ratio{suffix}": round(percentile(sima, 50) / percentile(bare, 50), 3),
        }
    return figures


async def measure(*, warmup: int = WARMUP_TURNS, voice_turns: int = VOICE_TURNS) -> dict[str, Any]:
    """All figures; the turn counts are parameters so a test can run the whole thing on one turn each."""
    vad = shipped_vad()
    async with llm_server(first_token_delay=LLM_FIRST_TOKEN) as base_url:
        with tempfile.TemporaryDirectory(prefix="sima-bench-") as tmp:
            plain = BenchStack(base_url, vad)
            # the STT double hears the marker that makes the scripted LLM call `next_question` first
            tool = BenchStack(base_url, vad, answer=lambda: f"{TOOL_MARKER} {ANSWER}")
            subjects = [await bare_subject(plain, guided_settings=True),
                        await sima_subject(plain, Path(tmp) / "verbatim", guided=True, verbatim=True),
                        await bare_subject(tool, tool=True),
                        await sima_subject(tool, Path(tmp) / "tools", guided=False)]
            try:
                await _rounds(subjects, warmup)
                samples = await _rounds(subjects, voice_turns)
            finally:
                for subject in subjects:
                    await subject.close()
    figures = _figures(samples)
    figures["pipeline_turns_per_subject"] = voice_turns
    figures["pipeline_overhead_ratio_target"] = TARGET
    figures["pipeline_overhead_ratio_met"] = figures["pipeline_overhead_ratio"] <= TARGET
    return figures


def run() -> dict[str, Any]:
    with quiet_livekit():
        return asyncio.run(measure())


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    print(run())
