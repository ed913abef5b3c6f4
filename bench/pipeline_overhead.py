"""SIMA's overhead on a voice turn: its interview agent against a bare LiveKit agent, same providers, same run.

End of the candidate's speech → first agent audio frame, for a bare `livekit.agents.Agent` and for SIMA's
InterviewSession in its default, tool-driven mode, running at once over identical providers of fixed latency (STT
150 ms, LLM first token 300 ms over real HTTP, TTS first byte 100 ms) and the real Silero VAD, turns interleaved
A B, B A, ... so the machine's noise falls on both alike. Then typed turns (`session.run` → first audio), which
leave out the VAD's and endpointing's fixed wait and so show the overhead against a smaller total, for the bare
agent, the tool-driven agent and the guided one (whose engine step runs inside the reply, before the LLM call).

On these turns the scripted LLM answers directly, as it does for the bare agent, so the figures are SIMA's own
work per turn (instructions, the guided engine step, transcript capture, persistence to SQLite and the journal).
A tool-driven turn that first calls `next_question` costs one more LLM round trip, reported separately
(`pipeline_tool_turn_text_s_p50`): that is the tool design's price, not overhead of the code.

Target: pipeline_overhead_ratio (voice, tool-driven mode) ≤ 1.05.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path
from typing import Any

from livekit.plugins import silero

from bench.llm_server import TOOL_MARKER, llm_server
from bench.quiet import quiet_livekit
from bench.stats import median, percentile
from bench.subjects import ANSWER, LLM_FIRST_TOKEN, BenchStack, Subject, bare_subject, sima_subject

log = logging.getLogger(__name__)

WARMUP_TURNS = 2  # per subject, not counted: first HTTP connections, first template renders
VOICE_TURNS = 20
TEXT_TURNS = 20
TOOL_TURNS = 8  # each moves the interview on by one question: well within one interview's questions
TARGET = 1.05


async def _rounds(subjects: list[Subject], turns: int, kind: str) -> dict[str, list[float]]:
    """`turns` turns per subject, interleaved, the order rotated each round."""
    samples: dict[str, list[float]] = {s.name: [] for s in subjects}
    for r in range(turns):
        order = subjects[r % len(subjects):] + subjects[:r % len(subjects)]
        for subject in order:
            if subject.near_end:  # guided mode asks a question per turn: keep measuring mid-interview turns
                fresh = await subject.renewed()
                subjects[subjects.index(subject)] = fresh
                subject = fresh
            latency = await (subject.voice_turn() if kind == "voice" else subject.text_turn())
            samples[subject.name].append(latency)
        if (r + 1) % 5 == 0:
            log.info("%s turns: %d/%d rounds; medians %s", kind, r + 1, turns,
                     ", ".join(f"{k} {median(v):.3f} s" for k, v in samples.items()))
    return samples


def _figures(kind: str, samples: dict[str, list[float]]) -> dict[str, Any]:
    bare, tools = samples["bare"], samples["sima-tools"]
    paired = [t - b for t, b in zip(tools, bare, strict=True)]  # same round, one after the other
    suffix = "" if kind == "voice" else "_text"
    figures = {
        f"pipeline_{kind}_bare_s_p50": round(median(bare), 3),
        f"pipeline_{kind}_sima_s_p50": round(median(tools), 3),
        f"pipeline_{kind}_bare_s_p90": round(percentile(bare, 90), 3),
        f"pipeline_{kind}_sima_s_p90": round(percentile(tools, 90), 3),
        f"pipeline_overhead{suffix}_ms_paired_p50": round(median(paired) * 1000, 1),
        f"pipeline_overhead_ratio{suffix}": round(median(tools) / median(bare), 3),
    }
    if guided := samples.get("sima-guided"):
        figures[f"pipeline_{kind}_sima_guided_s_p50"] = round(median(guided), 3)
        figures[f"pipeline_overhead_ratio{suffix}_guided"] = round(median(guided) / median(bare), 3)
    return figures


async def measure(*, warmup: int = WARMUP_TURNS, voice_turns: int = VOICE_TURNS, text_turns: int = TEXT_TURNS,
                  tool_turns: int = TOOL_TURNS) -> dict[str, Any]:
    """All figures; the turn counts are parameters so a test can run the whole thing on one turn each."""
    vad = silero.VAD.load()
    async with llm_server(first_token_delay=LLM_FIRST_TOKEN) as base_url:
        with tempfile.TemporaryDirectory(prefix="sima-bench-") as tmp:
            stack = BenchStack(base_url, vad)
            subjects = [await bare_subject(stack),
                        await sima_subject(stack, Path(tmp) / "tools", guided=False),
                        await sima_subject(stack, Path(tmp) / "guided", guided=True)]
            try:
                spoken = subjects[:2]  # guided mode's voice turns differ only by its in-reply step, seen in text
                await _rounds(spoken, warmup, "voice")
                voice = await _rounds(spoken, voice_turns, "voice")
                await _rounds(subjects, warmup, "text")
                text = await _rounds(subjects, text_turns, "text")
                tools = subjects[1]
                tool = [await tools.text_turn(f"{TOOL_MARKER} {ANSWER}") for _ in range(tool_turns)]
            finally:
                for subject in subjects:
                    await subject.close()
    figures = _figures("voice", voice) | _figures("text", text)
    figures["pipeline_tool_turn_text_s_p50"] = round(median(tool), 3)
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
