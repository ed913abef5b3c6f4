"""Prometheus metrics: `sima evaluations worker` serves them over HTTP (the queue read from the database, judge
seconds and outcomes of its own jobs), and the ASGI app a web server mounts answers scrapes the same way."""

from __future__ import annotations

import asyncio
import signal
import socket
from pathlib import Path
from typing import Any

import httpx

from engine.transcript import TurnMetrics
from sima.ops.metrics import asgi_app, observe_turn
from storage.models import JobStatus
from storage.store import Store
from tests.evaluation.helpers import make_record
from tests.reliability.schema_judge import fitting_reply
from tests.reliability.support import spawn, wait_for, write_config
from tests.support.openai_server import Reply, ScriptedOpenAI


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_the_evaluation_worker_serves_queue_depth_and_judge_time(tmp_path: Path) -> None:
    port = _free_port()

    def judge(body: dict[str, Any]) -> Reply:
        return fitting_reply(body)

    store = Store(f"sqlite:///{tmp_path / 'sima.db'}")
    store.enqueue_evaluation("iv-m", make_record("iv-m"))
    async with ScriptedOpenAI(judge) as server:
        config = write_config(tmp_path, server.base_url, metrics={"port": port, "host": "127.0.0.1"})
        worker = await spawn(config, tmp_path / "worker.log", "evaluations", "worker")
        try:
            await wait_for(lambda: not store.pending_jobs(), 60, what="the evaluation")
            async with httpx.AsyncClient() as client:
                for _ in range(100):
                    try:
                        text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
                        break
                    except httpx.ConnectError:
                        await asyncio.sleep(0.1)
        finally:
            worker.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(worker.wait(), 60) == 0, (tmp_path / "worker.log").read_text()[-2000:]
    assert 'sima_evaluation_queue_jobs{status="done"} 1.0' in text
    assert 'sima_evaluation_queue_jobs{status="pending"} 0.0' in text
    assert 'sima_evaluations_total{outcome="done"} 1.0' in text
    assert "sima_judge_seconds_count 1.0" in text
    assert "sima_webhook_undelivered 0.0" in text
    assert store.queue_depth()[JobStatus.DONE] == 1


async def test_the_asgi_app_answers_scrapes(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'sima.db'}")
    store.enqueue_evaluation("iv-a", make_record("iv-a"))
    observe_turn(TurnMetrics(e2e_latency=1.1))
    transport = httpx.ASGITransport(app=asgi_app(store))
    async with httpx.AsyncClient(transport=transport, base_url="http://sima") as client:
        response = await client.get("/")
    assert response.status_code == 200
    assert 'sima_evaluation_queue_jobs{status="pending"} 1.0' in response.text
    assert 'sima_turn_latency_seconds_bucket{le="1.5",stage="e2e"}' in response.text
    assert "sima_interviews_in_progress" in response.text


def test_job_processes_metrics_are_summed_in_multiprocess_mode(tmp_path: Path, monkeypatch) -> None:
    """As under `sima worker`: each job process counts its interview into $PROMETHEUS_MULTIPROC_DIR (LiveKit sets
    it before starting them) and the scrape sums them; a finished process's in-progress count drops out."""
    import subprocess
    import sys

    from sima.ops.metrics import registry
    from tests.conftest import ROOT

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    job = ("import sys, time\n"
           "from engine.transcript import Turn, TurnMetrics\n"
           "from sima.ops.metrics import ObservedSink\n"
           "class Null:\n"
           "    def append_turn(self, i, t): pass\n"
           "ObservedSink(Null()).append_turn(sys.argv[1], Turn(index=0, speaker='agent', text='Hi',\n"
           "                                 metrics=TurnMetrics(e2e_latency=0.9)))\n"
           "print('ready', flush=True)\n"
           "sys.stdin.readline()\n")
    jobs = [subprocess.Popen([sys.executable, "-c", job, f"iv-{n}"], cwd=ROOT, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True) for n in range(2)]
    try:
        for proc in jobs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        from prometheus_client import generate_latest

        text = generate_latest(registry()).decode()
        assert "sima_interviews_in_progress 2.0" in text
        assert 'sima_turn_latency_seconds_count{stage="e2e"} 2.0' in text
    finally:
        for proc in jobs:
            proc.communicate("\n", timeout=30)
