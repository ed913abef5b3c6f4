"""Interviews per worker process: N concurrent voice sessions in one process, their turn latency and memory.

For each N in :data:`LEVELS`, a fresh Python process (so memory and leftover tasks of one level never reach the
next) starts N real SIMA interview sessions in the shipped mode (guided + verbatim: the code takes each step, the LLM
writes a short acknowledgement), one SQLite store and journal, one provider stack
shared as a worker process's prewarmed stack is by its jobs, and a VAD object per session of the shipped kind
(SIMA's inline stream over LiveKit's native Silero, pipeline/inline_vad.py), as the worker gives each job. Each
session has a realtime-paced microphone (16 kHz, 50 ms frames, as the worker's room input) and speaks its
turns at random moments, so turns overlap as they would with N candidates (each level's turns start at random over 20 s:
~2.5 turns a second at N = 50, several times the rate of real answers, which last tens of seconds). Measured per
turn: end of speech → first agent audio; per level: the process's RSS once every session is up (and its peak
during the turns), its CPU use and the event loop's lag. The scripted LLM (first token 300 ms) runs in a process
of its own; STT (150 ms) and TTS (100 ms first byte) are in-process doubles. Turns end on VAD silence (0.5 s), so
every level measures the same fixed wait plus what the machine adds under load.

The levels in :data:`BARE_LEVELS` are run with bare LiveKit agents too (`concurrency_bare`: the same session options
as SIMA's guided mode, one LLM call per turn as SIMA), right after SIMA's, so what the framework itself costs per
session on this machine is visible beside SIMA's figures. An interview about to end is replaced by a fresh one before
its next turn (outside the measured time), so every measured turn is a mid-interview turn.

An overloaded level is a result, not a crash: a turn with no reply within :data:`TURN_TIMEOUT` is counted (`timeouts`)
and the session goes on; a level whose process fails or outlives its time limit is reported as failed, and the
levels already measured are kept.

concurrency_max_sessions is the largest N whose P95 latency stays within 1.1× the single session's P95 with no
timeout (at that level and every smaller one; target ≥ 50); concurrency_sima_vs_bare_p95 is SIMA's P95 over the bare
agents' at each level run with both (target ≤ 1); rss_per_session_mb is (RSS(N) − RSS(1)) / (N − 1) at the largest
N measured, all sessions up (target ≤ 20 MB).

Note: LiveKit's AgentServer runs each job in a process of its own by default (`JobExecutorType.PROCESS`), so in
production a session also costs that process's baseline, `concurrency["1"].rss_mb`; the in-process figures apply
as they are with `job_executor_type=JobExecutorType.THREAD`.

Run one level by hand: `python -m bench.concurrency --level 25 --base-url http://127.0.0.1:PORT/v1
[--subject bare] [--vad shared]` (`python -m bench.llm_server` prints such a URL).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from bench.llm_server import llm_server
from bench.quiet import quiet_livekit
from bench.stats import percentile
from bench.subjects import LLM_FIRST_TOKEN, BenchStack, Subject, bare_subject, shipped_vad, sima_subject
from storage.store import Store

log = logging.getLogger(__name__)

LEVELS = (1, 10, 25, 50, 100)  # 100: where the headroom above the target ends
BARE_LEVELS = (1, 25, 50, 100)
MIN_SAMPLES = 40  # turns per level at least; a single session speaks this many times, one after the other
WINDOW = 20.0  # seconds over which each level's turns start, at random: sessions speak at different moments
PAUSE = 0.2  # seconds at least between a reply and the same candidate's next words
P95_TOLERANCE = 1.1
TARGET_SESSIONS = 50
TARGET_RSS_PER_SESSION_MB = 20.0
LEVEL_TIMEOUT = 300.0
TURN_TIMEOUT = 20.0  # seconds from the end of a turn's speech to the reply's first audio before it counts as lost
LAG_TICK = 0.05


def turns_for(n: int) -> int:
    return -(-MIN_SAMPLES // n)


# ----- one level, in its own process -------------------------------------------------------------------------


class _Monitor:
    """Samples the process's RSS and the event loop's lag (how late a 50 ms sleep wakes up) in the background."""

    def __init__(self) -> None:
        self.proc = psutil.Process()
        self.peak_rss = 0
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def rss(self) -> int:
        rss = int(self.proc.memory_info().rss)
        self.peak_rss = max(self.peak_rss, rss)
        return rss

    async def _run(self) -> None:
        while True:
            t0 = time.perf_counter()
            await asyncio.sleep(LAG_TICK)
            self.lags.append(time.perf_counter() - t0 - LAG_TICK)
            self.rss()

    def __enter__(self) -> _Monitor:
        self._task = asyncio.create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()


async def _converse(subjects: list[Subject], i: int, turns: int, window: float) -> tuple[list[float], int]:
    """`turns` turns of `subjects[i]` starting at random moments of `window` seconds (later, if the previous one is
    not over); their latencies, and how many got no reply in time (a session that stays stuck stops speaking)."""
    rng = random.Random(i)
    started = time.perf_counter()
    latencies, lost = [], 0
    for offset in sorted(rng.uniform(0, window) for _ in range(turns)):
        await asyncio.sleep(max(PAUSE, started + offset - time.perf_counter()))
        subjects[i] = subject = await subjects[i].renewed()
        try:
            latencies.append(await subject.voice_turn(timeout=TURN_TIMEOUT))
        except TimeoutError:
            lost += 1
            try:
                await subject.wait_idle(TURN_TIMEOUT)
            except TimeoutError:
                return latencies, turns - len(latencies)
    return latencies, lost


async def level(n: int, base_url: str, kind: str = "sima", turns: int | None = None, *, window: float = WINDOW,
                shared_vad: bool = False) -> dict[str, Any]:
    """One level in this process: `n` sessions of `kind` ("sima" or "bare"), `turns` each.

    `shared_vad` makes every session use one VAD object instead of one each (see :class:`~bench.subjects.BenchStack`).
    """
    vad = shipped_vad()
    with tempfile.TemporaryDirectory(prefix="sima-bench-") as tmp:
        folder = Path(tmp)
        store = Store(f"sqlite:///{folder / 'sima.db'}")
        stack = BenchStack(base_url, vad, shared_vad=shared_vad)
        with _Monitor() as monitor:
            started = time.perf_counter()
            if kind == "bare":
                subjects = list(await asyncio.gather(*(bare_subject(stack, guided_settings=True)
                                                       for _ in range(n))))
            else:
                subjects = list(await asyncio.gather(*(sima_subject(stack, folder, guided=True, verbatim=True,
                                                                    store=store) for _ in range(n))))
            startup = time.perf_counter() - started
            gc.collect()
            rss_up = monitor.rss()
            cpu0, t0 = monitor.proc.cpu_times(), time.perf_counter()
            lags_before = len(monitor.lags)
            each = turns or turns_for(n)
            per_session = await asyncio.gather(*(_converse(subjects, i, each, window=window)
                                                 for i in range(n)))
            cpu1, wall = monitor.proc.cpu_times(), time.perf_counter() - t0
            lags = monitor.lags[lags_before:]
            for subject in subjects:
                await subject.close()
        store.close()
    busy = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
    return {"sessions": n, "kind": kind, "latencies": [x for s, _ in per_session for x in s],
            "timeouts": sum(lost for _, lost in per_session), "rss_up_mb": rss_up / 2**20,
            "rss_peak_mb": monitor.peak_rss / 2**20, "startup_s": startup, "cpu_percent": 100 * busy / wall,
            "loop_lag_ms_p95": 1000 * percentile(lags, 95) if lags else 0.0}


def _child(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description="one concurrency level")
    parser.add_argument("--level", type=int, required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--subject", choices=("sima", "bare"), default="sima")
    parser.add_argument("--vad", choices=("shared", "per-session"), default="per-session")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    with quiet_livekit():
        result = asyncio.run(level(args.level, args.base_url, args.subject,
                                   shared_vad=args.vad == "shared"))
    sys.stdout.write(json.dumps(result) + "\n")


# ----- all levels --------------------------------------------------------------------------------------------


async def _run_level(n: int, base_url: str, kind: str, limit: float = LEVEL_TIMEOUT) -> dict[str, Any]:
    """One level in a child process; a level that fails or outlives `limit` is a result saying so."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.concurrency", "--level", str(n), "--base-url", base_url, "--subject", kind,
        stdout=asyncio.subprocess.PIPE)
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), limit)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return {"sessions": n, "kind": kind, "failed": f"took longer than {limit:g} s"}
    lines = out.decode().strip().splitlines()
    if proc.returncode != 0 or not lines:
        return {"sessions": n, "kind": kind, "failed": f"exit code {proc.returncode}"}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def _row(level: dict[str, Any]) -> dict[str, Any]:
    if "failed" in level:
        return {"failed": level["failed"]}
    lat = level["latencies"]
    return {"p50_s": round(percentile(lat, 50), 3) if lat else None,
            "p95_s": round(percentile(lat, 95), 3) if lat else None, "turns": len(lat), "timeouts": level["timeouts"],
            "rss_mb": round(level["rss_up_mb"], 1), "rss_peak_mb": round(level["rss_peak_mb"], 1),
            "cpu_percent": round(level["cpu_percent"]), "loop_lag_ms_p95": round(level["loop_lag_ms_p95"], 1),
            "startup_s": round(level["startup_s"], 2)}


def summarise(levels: list[dict[str, Any]], bare: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    table = {str(level["sessions"]): _row(level) for level in levels}
    bare_table = {str(level["sessions"]): _row(level) for level in bare or []}
    first = table[str(levels[0]["sessions"])]
    reference = first.get("p95_s")

    def held(row: dict[str, Any]) -> bool:
        return (reference is not None and row.get("p95_s") is not None and not row["timeouts"]
                and row["p95_s"] <= P95_TOLERANCE * reference)

    # the largest N such that it and every smaller level held; a later lucky level does not count
    max_sessions = 0
    for level in levels:
        if not held(table[str(level["sessions"])]):
            break
        max_sessions = level["sessions"]
    measured = [lv for lv in levels if "failed" not in lv]
    extra = measured[-1]["sessions"] - measured[0]["sessions"] if measured else 0
    # with every session up and idle: the peak during turns also holds audio and replies in flight
    per_session = (measured[-1]["rss_up_mb"] - measured[0]["rss_up_mb"]) / extra if extra else 0.0
    versus = {n: round(table[n]["p95_s"] / row["p95_s"], 3) for n, row in bare_table.items()
              if row.get("p95_s") and table.get(n, {}).get("p95_s")}
    return {
        "concurrency": table,
        "concurrency_bare": bare_table,
        "concurrency_max_sessions": max_sessions,
        "concurrency_max_sessions_target": TARGET_SESSIONS,
        "concurrency_max_sessions_met": max_sessions >= TARGET_SESSIONS,
        "concurrency_one_session_p95_s": reference,
        "concurrency_sima_vs_bare_p95": versus,
        "concurrency_sima_vs_bare_p95_met": bool(versus) and all(v <= 1.0 for v in versus.values()),
        "rss_per_session_mb": round(per_session, 2),
        "rss_per_session_mb_target": TARGET_RSS_PER_SESSION_MB,
        "rss_per_session_mb_met": per_session <= TARGET_RSS_PER_SESSION_MB,
    }


async def _measure(levels: tuple[int, ...], bare_levels: tuple[int, ...]) -> dict[str, Any]:
    results: dict[str, list[dict[str, Any]]] = {"sima": [], "bare": []}
    async with llm_server(first_token_delay=LLM_FIRST_TOKEN) as base_url:
        # bare right after SIMA at the same N, so both see the machine in the same state
        plan = [(n, kind) for n in levels for kind in ("sima", "bare") if kind == "sima" or n in bare_levels]
        for n, kind in plan:
            result = await _run_level(n, base_url, kind)
            log.info("%s, %d sessions: %s", kind, n, _row(result))
            results[kind].append(result)
    return summarise(results["sima"], results["bare"])


def run(levels: tuple[int, ...] = LEVELS, bare_levels: tuple[int, ...] = BARE_LEVELS) -> dict[str, Any]:
    return asyncio.run(_measure(levels, bare_levels))


if __name__ == "__main__":
    if "--level" in sys.argv:
        _child(sys.argv[1:])
    else:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        print(run())
