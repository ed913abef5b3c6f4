"""Voice-to-voice latency of the embedded local stack (Silero VAD, Whisper tiny.en, Qwen 0.5B on llama.cpp, Piper).

A scripted simulated candidate speaks into the agent's microphone in real time; each reply's latency is LiveKit's own
`e2e_latency` (candidate stopped speaking → agent's first audio), with its parts: end-of-utterance delay, STT delay,
LLM time to first token, TTS time to first byte. Targets on this 2-core machine: P50 ≤ 1.5 s, P90 ≤ 2.5 s.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from bench.stats import median, percentile
from sima.context import load_context
from sima.simulation.persona import load_persona
from sima.simulation.run import LatencyRow, simulate_interview

ROOT = Path(__file__).resolve().parent.parent
MIN_TURNS = 10
MAX_INTERVIEWS = 2
TIME_SCALE = 4.0
log = logging.getLogger(__name__)


async def _rows(tmp: Path) -> list[LatencyRow]:
    os.environ.update({"SIMA_STORAGE__URL": f"sqlite:///{tmp / 'sima.db'}", "SIMA_PATHS__RUNS": str(tmp / "runs")})
    app = load_context(ROOT / "config.yaml")
    persona = load_persona("ada-devops-scripted", app.config.paths.personas)
    rows: list[LatencyRow] = []
    for n in range(MAX_INTERVIEWS):
        outcome = await simulate_interview(app, persona, text=False, time_scale=TIME_SCALE, evaluate=False)
        rows += [r for r in outcome.latency if r.e2e_s is not None]
        log.info("interview %d: %d measured turns so far", n + 1, len(rows))
        if len(rows) >= MIN_TURNS:
            break
    return rows


def _median(rows: list[LatencyRow], field: str) -> float | None:
    values = [getattr(r, field) for r in rows if getattr(r, field) is not None]
    return round(median(values), 3) if values else None


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="sima-v2v-") as tmp:
        rows = asyncio.run(_rows(Path(tmp)))
    e2e = [r.e2e_s for r in rows if r.e2e_s is not None]
    p50, p90 = round(percentile(e2e, 50), 3), round(percentile(e2e, 90), 3)
    return {
        "local_v2v_turns": len(e2e),
        "local_v2v_p50_s": p50,
        "local_v2v_p90_s": p90,
        "local_v2v_p50_target_s": 1.5,
        "local_v2v_p90_target_s": 2.5,
        "local_v2v_met": p50 <= 1.5 and p90 <= 2.5,
        "local_eou_median_s": _median(rows, "eou_s"),
        "local_stt_median_s": _median(rows, "stt_s"),
        "local_llm_ttft_median_s": _median(rows, "llm_ttft_s"),
        "local_tts_ttfb_median_s": _median(rows, "tts_ttfb_s"),
    }


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    print(run())
