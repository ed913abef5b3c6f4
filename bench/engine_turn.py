"""One engine turn: state-machine step, question choice and prompt render, as the agent does after each answer.

Target: p99 ≤ 2000 µs. The baseline in the same run is the prompt render alone, so the ratio shows what the
engine's own bookkeeping adds on top of templating.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from bench.stats import percentile
from engine.banks import load_banks
from engine.clock import FakeClock
from engine.instructions import render_instructions
from engine.interview import InterviewEngine
from engine.phases import Level
from engine.prompts import PromptLibrary
from engine.settings import InterviewSettings
from engine.snapshot import Profile

ROOT = Path(__file__).resolve().parent.parent
INTERVIEWS = 60


async def _measure() -> tuple[list[float], list[float]]:
    banks = load_banks(ROOT / "question_banks")
    prompts = PromptLibrary(ROOT / "prompt_templates")
    settings = InterviewSettings()
    turns: list[float] = []
    renders: list[float] = []
    roles = sorted(banks.banks)
    for i in range(INTERVIEWS):
        clock = FakeClock()
        engine = InterviewEngine(settings, banks, clock,
                                 profile=Profile(role=roles[i % len(roles)], level=list(Level)[i % 4]))
        await engine.start()
        while not engine.ended:
            t0 = time.perf_counter()
            nxt = await engine.next_question()
            if nxt.question is not None:
                await engine.follow_up()
                render_instructions(prompts, engine)
            turns.append((time.perf_counter() - t0) * 1e6)
            t0 = time.perf_counter()
            if nxt.question is not None:
                render_instructions(prompts, engine)
            renders.append((time.perf_counter() - t0) * 1e6)
            clock.advance(75)
            await engine.poll()
    return turns, renders


def run() -> dict[str, Any]:
    turns, renders = asyncio.run(_measure())
    return {
        "engine_turn_us_p50": round(percentile(turns, 50), 1),
        "engine_turn_us_p99": round(percentile(turns, 99), 1),
        "engine_turn_samples": len(turns),
        "engine_render_only_us_p50": round(percentile(renders, 50), 1),
        "engine_turn_vs_render_ratio_p50": round(percentile(turns, 50) / percentile(renders, 50), 2),
    }


if __name__ == "__main__":
    print(run())
