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
