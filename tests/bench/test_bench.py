"""The benchmarks run, end to end, on a tiny scale; their timings are not checked (targets live in the benchmarks)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
import pytest
from livekit.plugins import silero

from bench import concurrency, evaluation_overhead, pipeline_overhead
from bench.audio import FRAME_SECONDS, MIC_RATE, BenchMic, utterance
from bench.llm_server import llm_server
from bench.subjects import LLM_FIRST_TOKEN, BenchStack, sima_subject
from engine.transcript import Speaker
from storage.store import Store


async def test_the_mic_reports_when_the_last_sample_was_spoken() -> None:
    mic = BenchMic()
    speech = np.ones(int(MIC_RATE * 0.12), dtype=np.int16)  # 2.4 frames: the last frame is part silence
    frames = aiter(mic)
    started = time.perf_counter()
    await anext(frames)  # the mic's clock starts with its first frame, whenever the loop gets to the others
    done = mic.say(speech)
    for _ in range(3):
        await anext(frames)
    ended = await done
    # one frame of silence, then 0.12 s of speech: computed from the mic's schedule, not from when frames left
    assert ended - started == pytest.approx(FRAME_SECONDS + 0.12, abs=0.005)
    mic.close()


def test_the_utterance_is_short_speech_at_the_mic_rate() -> None:
    samples = utterance()
    assert samples.dtype == np.int16 and 1.0 < len(samples) / MIC_RATE < 1.2
    assert np.abs(samples).max() > 10_000 and abs(int(samples[-1])) < 200


async def test_a_sima_session_answers_a_spoken_and_a_typed_turn_and_persists_them(tmp_path: Path) -> None:
    async with llm_server(first_token_delay=0.01) as base_url:
        store = Store(f"sqlite:///{tmp_path / 'sima.db'}")
        subject = await sima_subject(BenchStack(base_url, silero.VAD.load()), tmp_path, guided=False, store=store)
        try:
            assert await subject.voice_turn() > 0
            assert await subject.text_turn() > 0
        finally:
            await subject.close()
        assert subject.interview is not None
        saved = [t.speaker for t in store.turns(subject.interview.interview_id)]
        assert saved.count(Speaker.CANDIDATE) == 2 and saved[-1] is Speaker.AGENT
        store.close()


async def test_pipeline_overhead_on_one_turn_each() -> None:
    figures = await pipeline_overhead.measure(warmup=0, voice_turns=1, text_turns=1, tool_turns=1)
    assert figures["pipeline_overhead_ratio"] > 0 and figures["pipeline_overhead_ratio_text"] > 0
    assert figures["pipeline_overhead_ratio_target"] == pipeline_overhead.TARGET
    assert isinstance(figures["pipeline_overhead_ratio_met"], bool)
    # the tool-driven turn really made the extra LLM round trip
    assert figures["pipeline_tool_turn_text_s_p50"] > LLM_FIRST_TOKEN


async def test_a_concurrency_level_in_process() -> None:
    async with llm_server(first_token_delay=0.01) as base_url:
        sima, bare = await asyncio.gather(concurrency.level(2, base_url, "sima", turns=1, window=0.5),
                                          concurrency.level(2, base_url, "bare", turns=1, window=0.5))
    for result in (sima, bare):
        assert len(result["latencies"]) == 2 and result["rss_peak_mb"] > 0


def test_the_concurrency_summary() -> None:
    def level(n: int, p95: float, rss: float) -> dict[str, object]:
        return {"sessions": n, "latencies": [p95] * 20, "rss_up_mb": rss, "rss_peak_mb": rss + 5, "startup_s": 1.0,
                "cpu_percent": 10.0, "loop_lag_ms_p95": 1.0}

    summary = concurrency.summarise([level(1, 1.0, 200), level(5, 1.05, 210), level(10, 1.3, 220),
                                     level(25, 1.0, 250)])
    # 25 is within 1.1x again, but 10 was not: the largest N holding at every level up to it is 5
    assert summary["concurrency_max_sessions"] == 5 and summary["concurrency_max_sessions_met"] is False
    assert summary["rss_per_session_mb"] == pytest.approx(50 / 24, abs=0.01)
    assert set(summary["concurrency"]["25"]) >= {"p50_s", "p95_s", "rss_mb"}


async def test_evaluation_overhead_on_one_run() -> None:
    figures = await evaluation_overhead.measure(runs=1, judge_delay=0.05)
    assert figures["evaluation_judge_s_p50"] == pytest.approx(0.05, abs=0.01)
    assert figures["evaluation_overhead_s"] > 0 and isinstance(figures["evaluation_overhead_s_met"], bool)
    assert 20 <= figures["evaluation_interview"]["minutes"] <= 25


def test_a_benchmark_runs_in_a_child_process_and_returns_its_figures() -> None:
    from bench.__main__ import run_isolated

    figures = run_isolated("engine_turn")
    assert figures["engine_turn_samples"] > 0 and figures["engine_turn_us_p99"] >= figures["engine_turn_us_p50"]


def test_the_voice_benchmark_candidate_is_a_valid_persona_with_long_answers(shipped_banks) -> None:
    from bench.local_v2v import CANDIDATE
    from sima.simulation.persona import load_persona

    persona = load_persona(str(CANDIDATE), Path("personas"))
    assert shipped_banks.match_role(persona.role_text) is not None
    assert len(persona.scripted_answers) >= 10 and min(len(a.split()) for a in persona.scripted_answers[1:-2]) >= 35
