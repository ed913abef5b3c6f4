"""The store on SQLite and (with SIMA_TEST_POSTGRES_URL) on a real Postgres: interviews, turns, snapshots, the queue."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from engine.phases import Level, Phase
from engine.snapshot import EngineSnapshot, Profile
from engine.transcript import Speaker, Turn, TurnMetrics
from storage.models import JobStatus
from storage.store import StorageError, Store, normalise_url
from tests.evaluation.helpers import make_record

STARTED = datetime(2026, 1, 23, 14, 30, tzinfo=UTC)


def create(store: Store, interview_id: str = "iv-1") -> None:
    store.create_interview(interview_id, candidate_name="Priya", role="backend", level=Level.MID,
                           started_at=STARTED, config_hash="cfg")


def test_turns_are_written_one_by_one_and_read_in_order(store: Store) -> None:
    create(store)
    turns = [Turn(index=i, speaker=Speaker.AGENT if i % 2 == 0 else Speaker.CANDIDATE, text=f"turn {i}",
                  started_at=i * 10.0, phase=Phase.INTRODUCTION) for i in (2, 0, 1)]
    turns[0].metrics = TurnMetrics(e2e_latency=1.25)
    for t in turns:
        store.append_turn("iv-1", t)
    got = store.turns("iv-1")
    assert [t.index for t in got] == [0, 1, 2]
    assert got[2] == turns[0]  # every field round-trips, metrics included


def test_append_turn_is_idempotent_on_interview_and_index(store: Store) -> None:
    create(store)
    turn = Turn(index=0, speaker=Speaker.CANDIDATE, text="I build APIs")
    store.append_turn("iv-1", turn)
    store.append_turn("iv-1", turn)
    store.append_turn("iv-1", turn.model_copy(update={"text": "I build APIs.", "interrupted": True}))
    assert store.turns("iv-1") == [turn.model_copy(update={"text": "I build APIs.", "interrupted": True})]


def test_a_turn_needs_its_interview(store: Store) -> None:
    with pytest.raises(Exception, match=r"(?i)foreign key"):
        store.append_turn("nobody", Turn(index=0, speaker=Speaker.AGENT, text="hi"))


def test_create_interview_again_changes_nothing(store: Store) -> None:
    create(store)
    store.create_interview("iv-1", candidate_name="Someone else", role=None, level=None, started_at=None,
                           config_hash=None)
    with store.session() as s:
        assert s.execute(text("SELECT candidate_name FROM interviews")).scalar_one() == "Priya"


def test_snapshots_are_saved_and_loaded(store: Store) -> None:
    create(store)
    assert store.load_snapshot("iv-1") is None
    snap = EngineSnapshot(interview_id="iv-1", state="technical", elapsed_seconds=400.0,
                          profile=Profile(name="Priya", role="backend", level=Level.MID))
    store.save_snapshot("iv-1", snap)
    store.save_snapshot("iv-1", snap.model_copy(update={"elapsed_seconds": 460.0}))
    assert store.load_snapshot("iv-1") == snap.model_copy(update={"elapsed_seconds": 460.0})
    with pytest.raises(StorageError, match="create_interview first"):
        store.save_snapshot("nobody", snap)


def test_one_job_per_interview(store: Store) -> None:
    record = make_record()
    first = store.enqueue_evaluation("iv-1", record)
    assert store.enqueue_evaluation("iv-1", record) == first
    jobs = store.pending_jobs()
    assert [(j.id, j.status, j.candidate_name, j.position) for j in jobs] == \
        [(first, JobStatus.PENDING, "Priya Sharma", "Backend Developer")]
    assert jobs[0].created_at.tzinfo is not None


def test_claim_leases_a_job_to_one_worker(store: Store) -> None:
    job_id = store.enqueue_evaluation("iv-1", make_record())
    claimed = store.claim_job("worker-a", lease_seconds=60)
    assert claimed is not None and claimed.id == job_id and claimed.record == make_record()
    assert store.claim_job("worker-b", lease_seconds=60) is None
    info = store.job(job_id)
    assert info is not None and info.status is JobStatus.RUNNING and info.lease_owner == "worker-a"


def test_an_expired_lease_makes_the_job_claimable_again(store: Store) -> None:
    job_id = store.enqueue_evaluation("iv-1", make_record())
    assert store.claim_job("dead-worker", lease_seconds=0.05) is not None
    time.sleep(0.1)
    taken = store.claim_job("worker-b", lease_seconds=60)
    assert taken is not None and taken.id == job_id
    # the dead worker, had it come back, can neither renew nor complete
    assert not store.renew_lease(job_id, "dead-worker", 60)
    assert not store.complete_job(job_id, "dead-worker", attempts=1, report={}, overall_score=5, decision="Maybe",
                                  role_fit_percentage=50, json_path="a", html_path="b")
    assert store.evaluations("iv-1") == []
    assert store.renew_lease(job_id, "worker-b", 60)


def test_complete_stores_the_evaluation_and_marks_done(store: Store) -> None:
    job_id = store.enqueue_evaluation("iv-1", make_record())
    store.claim_job("w", lease_seconds=60)
    assert store.complete_job(job_id, "w", attempts=2, report={"ratings": {"overall_score": 7.5}}, overall_score=7.5,
                              decision="Hire", role_fit_percentage=77, json_path="e/x.json", html_path="e/x.html")
    assert store.pending_jobs() == []
    [ev] = store.evaluations("iv-1")
    assert (ev.job_id, ev.decision, ev.overall_score, ev.report["ratings"]["overall_score"]) == (job_id, "Hire", 7.5,
                                                                                                 7.5)
    assert store.claim_job("w", lease_seconds=60) is None
    info = store.job(job_id)
    assert info is not None and info.status is JobStatus.DONE and info.attempts == 2


def test_a_failed_job_stays_until_retried(store: Store) -> None:
    job_id = store.enqueue_evaluation("iv-1", make_record())
    store.claim_job("w", lease_seconds=60)
    store.fail_job(job_id, "w", attempts=5, error="MalformedReply: reply is not JSON")
    [info] = store.pending_jobs()
    assert info.status is JobStatus.FAILED and info.attempts == 5 and "not JSON" in (info.last_error or "")
    assert store.claim_job("w", lease_seconds=60) is None  # workers leave failed jobs alone
    assert store.retry_failed() == 1
    assert store.claim_job("w", lease_seconds=60) is not None


def test_enqueue_again_requeues_a_finished_job(store: Store) -> None:
    job_id = store.enqueue_evaluation("iv-1", make_record())
    store.claim_job("w", lease_seconds=60)
    store.complete_job(job_id, "w", attempts=1, report={}, overall_score=5, decision="Maybe", role_fit_percentage=40,
                       json_path="a", html_path="b")
    newer = make_record(candidate_name="Priya S.")
    assert store.enqueue_evaluation("iv-1", newer, output_dir="elsewhere", again=True) == job_id
    claimed = store.claim_job("w", lease_seconds=60)
    assert claimed is not None and claimed.record.candidate_name == "Priya S." and claimed.output_dir == "elsewhere"


def test_claims_can_be_limited_to_some_jobs(store: Store) -> None:
    a = store.enqueue_evaluation("iv-a", make_record("iv-a"))
    b = store.enqueue_evaluation("iv-b", make_record("iv-b"))
    claimed = store.claim_job("w", lease_seconds=60, job_ids=[b])
    assert claimed is not None and claimed.id == b
    assert store.claim_job("w", lease_seconds=60, job_ids=[b]) is None
    assert (store.claim_job("w", lease_seconds=60) or pytest.fail("a is claimable")).id == a


def test_concurrent_workers_never_claim_the_same_job(store_url: str, store: Store) -> None:
    ids = {store.enqueue_evaluation(f"iv-{i}", make_record(f"iv-{i}")) for i in range(12)}
    claims: dict[str, list[int]] = {}
    start = threading.Barrier(4)

    def work(name: str) -> None:
        own = Store(store_url)  # a process of its own, as far as the database can tell
        start.wait()
        claims[name] = []
        while (job := own.claim_job(name, lease_seconds=60)) is not None:
            claims[name].append(job.id)
        own.close()

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [j for c in claims.values() for j in c]
    assert sorted(every) == sorted(ids)  # each job exactly once


def test_sqlite_file_uses_wal_and_foreign_keys_in_a_created_folder(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'deep' / 'er' / 'sima.db'}")
    assert (tmp_path / "deep" / "er" / "sima.db").exists()
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    store.close()


@pytest.mark.parametrize(("url", "driver"), [
    ("postgresql://u@h/db", "postgresql+psycopg"), ("postgres://u@h/db", "postgresql+psycopg"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg"), ("sqlite:///x.db", "sqlite"),
])
def test_urls(url: str, driver: str) -> None:
    assert normalise_url(url).drivername == driver


@pytest.mark.parametrize(("url", "message"), [
    ("mysql://u@h/db", "unsupported database 'mysql'"), ("sqlite://", "needs a file"),
])
def test_unusable_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(StorageError, match=message):
        Store(url)
