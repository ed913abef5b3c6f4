"""The database becomes unreachable mid-interview (Postgres behind a proxy that is cut, then restored): the interview
goes on, every turn keeps going to the journal, and once the database is back the journal is replayed into it, so
it holds the whole transcript and the ended state."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from engine.clock import FakeClock
from engine.transcript import InterviewRecord, Speaker
from pipeline.console import run_text_console
from pipeline.journal import JournalSink, ReplayingSink
from pipeline.ports import TeeSink
from pipeline.registry import BuildContext
from pipeline.session import InterviewSetup
from pipeline.worker import WorkerRuntime
from storage.store import Store
from tests.pipeline.conftest import short_settings
from tests.pipeline.test_console import verbatim_profile
from tests.reliability.support import ACK
from tests.reliability.tcp_proxy import TcpProxy
from tests.storage.fixtures import _postgres_url
from tests.support.openai_server import Reply, ScriptedOpenAI

pytestmark = pytest.mark.postgres


async def test_turns_written_while_the_database_is_down_reach_it_when_it_is_back(shipped_banks, prompts,
                                                                                  tmp_path: Path) -> None:
    url = make_url(_postgres_url())
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    # every database call runs in a thread: the proxy it goes through runs on this event loop
    store = await asyncio.to_thread(Store, url.set(host="127.0.0.1", port=proxy.port).render_as_string(
        hide_password=False))
    journal = JournalSink(tmp_path / "runs")
    failures: list[int] = []
    replaying = ReplayingSink(store, journal, retry_seconds=0.2, max_retry_seconds=1.0,
                              on_failure=lambda: failures.append(1))
    said: list[str] = []
    spoke = asyncio.Event()
    during_outage: list[str] = []

    def write(speaker: str, line: str) -> None:
        said.append(line)
        spoke.set()

    async def candidate() -> AsyncIterator[str]:
        for n in range(12):
            await spoke.wait()
            spoke.clear()
            if n == 3:
                await proxy.cut()
            if 3 <= n < 8:
                during_outage.append(said[-1])
            if n == 8:
                await proxy.start()
            yield f"Answer {n}: I profiled the service and fixed the slow query."

    async with ScriptedOpenAI(lambda body: Reply(text=ACK)) as server:
        setup = InterviewSetup(settings=short_settings(), banks=shipped_banks, prompts=prompts,
                               profile=verbatim_profile(server.base_url))
        runtime = WorkerRuntime(setup=setup, build_ctx=BuildContext(env={}), setting_prefix="profiles.test",
                                sink=TeeSink(journal, replaying), clock=FakeClock())
        record: InterviewRecord | None = await asyncio.wait_for(
            run_text_console(runtime, lines=candidate(), write=write), 120)
    assert record is not None
    assert failures, "the database refused writes while it was cut off"
    assert len(during_outage) == 5  # the agent kept replying while the database was down
    assert await asyncio.to_thread(replaying.drain, 30), "the journal was replayed into the database once back"
    texts = [(t.speaker, t.text) for t in record.turns]
    assert [(t.speaker, t.text) for t in journal.read(record.interview_id).turns] == texts
    stored = await asyncio.to_thread(store.turns, record.interview_id)
    assert [(t.speaker, t.text) for t in stored] == texts
    assert sum(t.speaker is Speaker.CANDIDATE for t in record.turns) >= 9
    snapshot = await asyncio.to_thread(store.load_snapshot, record.interview_id)
    assert snapshot is not None and snapshot.end_reason == record.end_reason
    info = await asyncio.to_thread(store.interview, record.interview_id)
    assert info is not None and info.ended_at is not None
    store.close()
    await proxy.cut()
