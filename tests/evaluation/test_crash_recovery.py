"""Nothing is lost when a worker dies: `sima evaluations retry` really runs as a process, is SIGKILLed while the judge
stalls, and a later `sima evaluations retry` finishes the job (SQLite; Postgres too)."""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from storage.models import JobStatus
from storage.store import Store
from tests.evaluation.helpers import ROOT, generous_reply, make_record, run_sima, write_config
from tests.support.openai_server import Reply, ScriptedOpenAI


async def test_a_worker_killed_mid_evaluation_leaves_the_job_for_retry(store: Store, store_url: str,
                                                                       tmp_path: Path) -> None:
    stalled, release = asyncio.Event(), asyncio.Event()
    answering = False

    async def judge(body: dict[str, Any]) -> Reply:
        if answering:
            return generous_reply(body)
        stalled.set()  # the worker is mid-evaluation: its judge call is in flight
        await release.wait()
        return Reply(status=503)

    async with ScriptedOpenAI(judge) as server:
        job_id = store.enqueue_evaluation("iv-crash", make_record("iv-crash"))
        config = write_config(tmp_path, judge_url=server.base_url, store_url=store_url, lease_seconds=1)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "sima", "-c", str(config), "evaluations", "retry", cwd=ROOT,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        try:
            await asyncio.wait_for(stalled.wait(), 60)
        except TimeoutError:
            proc.kill()
            raise AssertionError((await proc.communicate())[0].decode()) from None
        running = store.job(job_id)
        assert running is not None and running.status is JobStatus.RUNNING
        assert f":{proc.pid}:" in (running.lease_owner or "")  # claimed by that very process

        proc.send_signal(signal.SIGKILL)
        assert await proc.wait() == -signal.SIGKILL

        left = store.job(job_id)
        assert left is not None and left.status is not JobStatus.DONE
        assert [j.id for j in store.pending_jobs()] == [job_id]
        assert store.evaluations("iv-crash") == []
        assert not (tmp_path / "evaluations").exists()

        answering = True
        release.set()
        assert left.lease_expires_at is not None
        await asyncio.sleep((left.lease_expires_at - datetime.now(UTC)).total_seconds() + 0.2)
        code, output = await run_sima(config, "evaluations", "retry")
        assert code == 0, output

    done = store.job(job_id)
    assert done is not None and done.status is JobStatus.DONE
    assert store.pending_jobs() == []
    [evaluation] = store.evaluations("iv-crash")
    assert Path(evaluation.json_path).is_file() and Path(evaluation.html_path).is_file()
    assert Path(evaluation.json_path).parent == tmp_path / "evaluations"
    assert "Priya Sharma" in output and "Hire" in output
