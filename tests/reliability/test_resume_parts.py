"""The parts resuming is made of: a clock that stands still while the candidate is away, the rejoin grace period,
the transcript as chat context, a tee that writes every sink even when one fails, and merging what the database
and the journal hold."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.clock import FakeClock
from engine.snapshot import EngineSnapshot
from engine.transcript import Speaker, Turn
from pipeline.journal import JournalSink
from pipeline.ports import TeeSink
from pipeline.resume import PausableClock, RejoinWatch, ResumeSettings, chat_context
from sima.ops.resume import ResumeError, load_resumable
from storage.store import Store


async def test_a_paused_clock_holds_its_sleepers_until_unpaused() -> None:
    inner = FakeClock()
    clock = PausableClock(inner)
    woke = asyncio.ensure_future(clock.sleep_until(10))
    await asyncio.sleep(0)
    clock.pause()
    inner.advance(60)  # a minute away: no interview time passes
    await asyncio.sleep(0)
    assert not woke.done() and clock.now() == 0
    clock.unpause()
    inner.advance(9)
    await asyncio.sleep(0)
    assert not woke.done() and clock.now() == 9
    inner.advance(1)
    await asyncio.wait_for(woke, 1)
    assert clock.now() == 10


async def test_rejoining_within_the_grace_period_keeps_the_interview_and_the_clock() -> None:
    ended: list[str] = []
    welcomed: list[str] = []
    clock = PausableClock(FakeClock())

    async def end() -> None:
        ended.append("ended")

    async def welcome() -> None:
        welcomed.append("welcome back")

    watch = RejoinWatch(ResumeSettings(rejoin_grace_seconds=0.2), clock, on_timeout=end, on_rejoined=welcome)
    watch.left()
    assert watch.away and clock.paused
    await asyncio.sleep(0.05)
    watch.rejoined()
    await asyncio.sleep(0.3)
    assert not ended and welcomed == ["welcome back"] and not clock.paused
    watch.left()
    await asyncio.sleep(0.3)  # gone for good
    assert ended == ["ended"] and not watch.away


async def test_the_clock_can_run_while_the_candidate_is_away() -> None:
    clock = PausableClock(FakeClock())

    async def end() -> None:
        pass

    watch = RejoinWatch(ResumeSettings(rejoin_grace_seconds=5, clock_runs_while_away=True), clock, on_timeout=end)
    watch.left()
    assert not clock.paused
    await watch.aclose()


def test_the_transcript_becomes_the_agents_chat_history() -> None:
    ctx = chat_context([Turn(index=0, speaker=Speaker.AGENT, text="Tell me about a project."),
                        Turn(index=1, speaker=Speaker.CANDIDATE, text="I built a queue.", interrupted=True)])
    assert [(m.role, m.text_content, m.interrupted) for m in ctx.items] == [
        ("assistant", "Tell me about a project.", False), ("user", "I built a queue.", True)]


class _Down:
    def create_interview(self, interview_id: str, **meta: object) -> None:
        raise ConnectionError("database down")

    def append_turn(self, interview_id: str, turn: Turn) -> None:
        raise ConnectionError("database down")

    def save_snapshot(self, interview_id: str, snapshot: EngineSnapshot) -> None:
        raise ConnectionError("database down")


def test_a_failing_sink_does_not_cost_the_next_one_its_write(tmp_path: Path) -> None:
    journal = JournalSink(tmp_path)
    tee = TeeSink(_Down(), journal)
    with pytest.raises(ConnectionError):
        tee.append_turn("iv-1", Turn(index=0, speaker=Speaker.AGENT, text="Hello"))
    assert [t.text for t in journal.read("iv-1").turns] == ["Hello"]


def test_resuming_merges_the_database_and_the_journal(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'sima.db'}")
    journal = JournalSink(tmp_path / "runs")
    started = datetime(2026, 11, 30, tzinfo=UTC)
    for sink in (store, journal):
        sink.create_interview("iv-1", candidate_name="Ada", role="backend", level=None, started_at=started,
                              config_hash=None)
    turns = [Turn(index=i, speaker=Speaker.AGENT if i % 2 == 0 else Speaker.CANDIDATE, text=f"turn {i}")
             for i in range(4)]
    for t in turns[:2]:
        store.append_turn("iv-1", t)
    store.save_snapshot("iv-1", EngineSnapshot(interview_id="iv-1", state="experience", elapsed_seconds=100))
    for t in turns:  # the database went down after turn 1; the journal has them all
        journal.append_turn("iv-1", t)
    journal.save_snapshot("iv-1", EngineSnapshot(interview_id="iv-1", state="technical", elapsed_seconds=200))

    resumable = load_resumable(store, journal, "iv-1")
    assert [t.text for t in resumable.turns] == [t.text for t in turns]
    assert resumable.snapshot.state == "technical" and resumable.started_at == started
    assert [t.text for t in store.turns("iv-1")] == [t.text for t in turns]  # caught up from the journal

    journal.save_snapshot("iv-1", EngineSnapshot(interview_id="iv-1", state="ended", elapsed_seconds=300,
                                                 ended_at=300, end_reason="completed"))
    with pytest.raises(ResumeError, match="has ended"):
        load_resumable(store, journal, "iv-1")
    with pytest.raises(ResumeError, match="no interview"):
        load_resumable(store, journal, "nobody")
    with pytest.raises(ResumeError, match="unsafe"):
        load_resumable(store, journal, "../etc")
    store.close()


async def test_an_interview_nobody_resumes_is_ended_as_abandoned_and_queued(tmp_path: Path) -> None:
    from engine.interview import InterviewEngine
    from sima.context import load_context
    from sima.ops.resume import end_abandoned
    from storage.models import utcnow
    from tests.reliability.support import write_config

    app = load_context(write_config(tmp_path, "http://127.0.0.1:9/v1"))
    store = Store(app.config.storage.url)
    journal = JournalSink(app.config.paths.runs)
    clock = FakeClock()
    engine = InterviewEngine(app.config.interview, app.banks, clock)
    await engine.start()
    clock.advance(200)
    await engine.poll()
    store.create_interview(engine.interview_id, candidate_name="Ada", role=None, level=None,
                           started_at=datetime.now(UTC), config_hash=None)
    store.append_turn(engine.interview_id, Turn(index=0, speaker=Speaker.AGENT, text="Hello"))
    store.save_snapshot(engine.interview_id, engine.snapshot())

    assert await end_abandoned(store, journal, app, now=utcnow()) == []  # not yet
    assert await end_abandoned(store, journal, app, now=utcnow() + timedelta(hours=25)) == [engine.interview_id]
    snapshot = store.load_snapshot(engine.interview_id)
    assert snapshot is not None and snapshot.end_reason == "abandoned" and snapshot.state == "ended"
    assert store.has_job(engine.interview_id) and store.interviews(unfinished=True) == []
    assert await end_abandoned(store, journal, app, now=utcnow() + timedelta(hours=50)) == []
    store.close()
