"""Webhooks: a receiver that is down (its port closed) for a real minute gets every delivery afterwards, each
signed and each once (by event id); the outbox is written with the event, in the same transaction."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web

from engine.snapshot import EngineSnapshot
from sima.ops.webhooks import verify
from storage.models import DeliveryStatus
from storage.outbox import Outbox
from storage.store import Store
from tests.evaluation.helpers import make_record
from tests.reliability.support import spawn, wait_for, write_config

SECRET = "test-webhook-secret"
DOWN_SECONDS = 60.0


class Receiver:
    """An ATS stand-in on 127.0.0.1 that checks signatures; `start()` and `stop()` open and close its port."""

    def __init__(self, port: int):
        self.port = port
        self.received: list[dict] = []
        self.bad_signatures = 0
        self._runner: web.AppRunner | None = None

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not verify(body, request.headers.get("X-Sima-Signature", ""), SECRET.encode()):
            self.bad_signatures += 1
            return web.Response(status=401)
        self.received.append({"delivery": request.headers["X-Sima-Delivery"], **json.loads(body)})
        return web.Response(status=204)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _finish(store: Store, interview_id: str) -> None:
    """An interview ends (its last snapshot) and its evaluation is stored, as a worker and a judge would."""
    store.create_interview(interview_id, candidate_name="Ada", role="backend", level=None,
                           started_at=datetime.now(UTC), config_hash=None)
    store.save_snapshot(interview_id, EngineSnapshot(interview_id=interview_id, state="ended", elapsed_seconds=1300,
                                                     ended_at=1300, end_reason="completed"))
    store.save_snapshot(interview_id, EngineSnapshot(interview_id=interview_id, state="ended", elapsed_seconds=1300,
                                                     ended_at=1300, end_reason="completed"))  # said twice: sent once
    job_id = store.enqueue_evaluation(interview_id, make_record(interview_id))
    job = store.claim_job("judge", 60, job_ids=[job_id])
    assert job is not None
    store.complete_job(job_id, "judge", attempts=1, report={"ratings": {"overall_score": 7.0}}, overall_score=7.0,
                       decision="Hire", role_fit_percentage=70, json_path="r.json", html_path="r.html")


@pytest.mark.slow
async def test_a_receiver_down_for_a_minute_gets_every_delivery_afterwards(tmp_path: Path) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/hook"
    config = write_config(tmp_path, "http://127.0.0.1:9/v1",
                          webhooks={"urls": [url], "retry_schedule_seconds": [2, 5, 10]})
    store = Store(f"sqlite:///{tmp_path / 'sima.db'}", webhook_urls=[url])
    receiver = Receiver(port)
    worker = await spawn(config, tmp_path / "worker.log", "evaluations", "worker",
                         env={"SIMA_WEBHOOK_SECRET": SECRET})
    try:
        for n in range(3):  # while the receiver is down
            _finish(store, f"iv-{n}")
        outbox = Outbox(store)
        assert len(outbox.deliveries()) == 6  # interview.finished and evaluation.done for each
        await asyncio.sleep(DOWN_SECONDS)
        failed = outbox.deliveries()
        assert all(d.status is not DeliveryStatus.DELIVERED and d.attempts >= 3 for d in failed), failed
        assert all("ConnectError" in (d.last_error or "") for d in failed)
        await receiver.start()
        await wait_for(lambda: len(receiver.received) >= 6, 30, what="the deliveries after the receiver is back")
        await asyncio.sleep(3)  # nothing more arrives: each delivery once
    finally:
        worker.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(worker.wait(), 60)
        await receiver.stop()
    assert code == 0, (tmp_path / "worker.log").read_text()[-3000:]
    assert receiver.bad_signatures == 0
    events = sorted((r["event"], r["data"]["interview_id"]) for r in receiver.received)
    assert events == sorted([(e, f"iv-{n}") for n in range(3) for e in ("interview.finished", "evaluation.done")])
    assert len({r["delivery"] for r in receiver.received}) == 6
    assert all(d.status is DeliveryStatus.DELIVERED for d in Outbox(store).deliveries())
