"""The store's resume lookups, consent, deletion and retention, and the webhook outbox (SQLite and Postgres)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.snapshot import EngineSnapshot
from engine.transcript import Speaker, Turn
from storage.models import DeliveryStatus, JobStatus, utcnow
from storage.outbox import Outbox
from storage.store import Store
from tests.evaluation.helpers import make_record

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def _start(store: Store, interview_id: str, *, room: str | None = None, invitation: str | None = None) -> None:
    store.create_interview(interview_id, candidate_name="Ada", role="backend", level=None, started_at=NOW,
                           config_hash=None, room=room, invitation_id=invitation)
    store.save_snapshot(interview_id, EngineSnapshot(interview_id=interview_id, state="technical",
                                                     elapsed_seconds=300))


def _end(store: Store, interview_id: str) -> None:
    store.save_snapshot(interview_id, EngineSnapshot(interview_id=interview_id, state="ended", elapsed_seconds=900,
                                                     ended_at=900, end_reason="completed"))


def test_unfinished_interviews_are_found_by_invitation_then_room(store: Store) -> None:
    _start(store, "iv-a", room="room-1")
    _start(store, "iv-b", room="room-2", invitation="inv-9")
    assert store.find_unfinished(room="room-1") == "iv-a"
    assert store.find_unfinished(room="room-1", invitation_id="inv-9") == "iv-b"  # the invitation wins
    assert store.find_unfinished(room="room-3") is None
    _end(store, "iv-a")
    assert store.find_unfinished(room="room-1") is None  # an ended interview is not resumed
    info = store.interview("iv-a")
    assert info is not None and info.end_reason == "completed" and info.ended_at is not None
    assert [i.id for i in store.interviews(unfinished=True)] == ["iv-b"]


def test_set_location_and_consent(store: Store) -> None:
    _start(store, "iv-a")
    store.set_location("iv-a", room="room-7", invitation_id="inv-1")
    store.record_consent("iv-a", text="I agree to be recorded and evaluated.", at=NOW)
    info = store.interview("iv-a")
    assert info is not None and (info.room, info.invitation_id) == ("room-7", "inv-1")
    assert (info.consent_at, info.consent_text) == (NOW, "I agree to be recorded and evaluated.")


def test_delete_removes_every_row_and_names_the_reports(store: Store) -> None:
    _start(store, "iv-a")
    _start(store, "iv-keep")
    store.append_turn("iv-a", Turn(index=0, speaker=Speaker.AGENT, text="Hello"))
    job_id = store.enqueue_evaluation("iv-a", make_record("iv-a"))
    assert store.claim_job("w", 60) is not None
    store.complete_job(job_id, "w", attempts=1, report={}, overall_score=7, decision="Hire", role_fit_percentage=70,
                       json_path="/x/r.json", html_path="/x/r.html")
    assert sorted(store.delete_interview("iv-a")) == ["/x/r.html", "/x/r.json"]
    assert store.interview("iv-a") is None and store.turns("iv-a") == [] and store.evaluations("iv-a") == []
    assert store.job(job_id) is None and not store.has_job("iv-a")
    assert store.interview("iv-keep") is not None
    assert store.delete_interview("iv-a") == []  # already gone: nothing, no error


def test_interviews_before_a_cutoff(store: Store) -> None:
    _start(store, "iv-a")
    assert store.interviews_before(utcnow() + timedelta(seconds=5)) == ["iv-a"]
    assert store.interviews_before(utcnow() - timedelta(days=1)) == []


def test_a_failed_job_with_a_retry_time_is_claimed_again_then(store: Store) -> None:
    job_id = store.enqueue_evaluation("iv-a", make_record("iv-a"))
    assert store.claim_job("w", 60) is not None
    store.fail_job(job_id, "w", attempts=1, error="503", retry_at=utcnow() + timedelta(hours=1))
    assert store.claim_job("w2", 60) is None  # not yet
    assert store.queue_depth()[JobStatus.FAILED] == 1
    assert store.claim_job("w", 60) is None
    store.fail_job(job_id, "w", attempts=0, error="never held")  # not the owner: nothing changes
    job = store.job(job_id)
    assert job is not None and job.status is JobStatus.FAILED and job.last_error == "503"


def test_a_failed_job_whose_retry_time_has_come_is_claimable(store: Store) -> None:
    job_id = store.enqueue_evaluation("iv-a", make_record("iv-a"))
    assert store.claim_job("w", 60) is not None
    store.fail_job(job_id, "w", attempts=1, error="503", retry_at=utcnow() - timedelta(seconds=1))
    claimed = store.claim_job("w2", 60)
    assert claimed is not None and claimed.id == job_id


def test_the_outbox_is_written_with_the_event_once_and_leased_to_one_sender(store_url: str) -> None:
    store = Store(store_url, webhook_urls=["http://a.example/hook", "http://b.example/hook"])
    _start(store, "iv-a")
    _end(store, "iv-a")
    _end(store, "iv-a")  # the ended snapshot is saved more than once: the event is queued once
    outbox = Outbox(store)
    deliveries = outbox.deliveries(interview_id="iv-a")
    assert [(d.event, d.url) for d in deliveries] == [("interview.finished", "http://a.example/hook"),
                                                     ("interview.finished", "http://b.example/hook")]
    assert len({d.event_id for d in deliveries}) == 1
    assert deliveries[0].payload["data"]["end_reason"] == "completed"
    first = outbox.claim("s1", 60)
    second = outbox.claim("s2", 60)
    assert first is not None and second is not None and first.id != second.id
    assert outbox.claim("s3", 60) is None  # both leased
    outbox.failed(first.id, "s1", error="down", retry_at=utcnow() + timedelta(hours=1))
    outbox.delivered(second.id, "s2")
    assert outbox.claim("s3", 60) is None  # one waits for its retry time, one is delivered
    statuses = {d.id: (d.status, d.attempts) for d in outbox.deliveries()}
    assert statuses == {first.id: (DeliveryStatus.PENDING, 1), second.id: (DeliveryStatus.DELIVERED, 1)}
    assert outbox.undelivered() == 1
    store.delete_interview("iv-a")
    assert outbox.deliveries() == []
    store.close()
