"""A candidate's data: `sima interviews export` gives everything kept about their interview, `sima interviews
delete` removes it everywhere, and retention deletes interviews past their time; on a real typed interview."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sima.config import load_config
from sima.ops.data_rights import enforce_retention
from storage.store import Store
from tests.evaluation.helpers import make_record
from tests.reliability.support import ACK, Candidate, start_sima, write_config
from tests.support.openai_server import Reply, ScriptedOpenAI


async def _interview(config: Path) -> str:
    candidate = Candidate([f"Answer {n}." for n in range(40)])
    proc = await start_sima(config, "console", "--text", "--no-evaluate")
    assert await candidate.converse(proc) == "ended"
    _, stderr = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, stderr.decode()[-2000:]
    [journal] = list((config.parent / "runs").glob("*/journal.jsonl"))
    return journal.parent.name


async def _sima(config: Path, *args: str) -> str:
    proc = await start_sima(config, *args)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, (out + err).decode()[-2000:]
    return out.decode()


async def test_export_then_delete_a_candidates_interview(tmp_path: Path) -> None:
    async with ScriptedOpenAI(lambda body: Reply(text=ACK)) as server:
        config = write_config(tmp_path, server.base_url)
        interview_id = await _interview(config)
    store = Store(f"sqlite:///{tmp_path / 'sima.db'}")
    store.record_consent(interview_id, text="I agree to be recorded and evaluated.", at=datetime.now(UTC))
    report = tmp_path / "evaluations" / "report.json"
    report.parent.mkdir()
    report.write_text("{}")
    job_id = store.enqueue_evaluation(interview_id, make_record(interview_id))
    assert store.claim_job("w", 60) is not None
    store.complete_job(job_id, "w", attempts=1, report={"ratings": {}}, overall_score=7, decision="Hire",
                       role_fit_percentage=70, json_path=str(report), html_path=str(report.with_suffix(".html")))
    (tmp_path / "runs" / interview_id / "conversation.wav").write_bytes(b"RIFF....")  # audio, as a voice run has

    output = await _sima(config, "interviews", "export", interview_id, "--out", str(tmp_path / "exports"))
    folder = tmp_path / "exports" / interview_id
    assert f"exported {interview_id}" in output
    facts = json.loads((folder / "interview.json").read_text())
    assert facts["consent"]["text"] == "I agree to be recorded and evaluated."
    assert facts["engine_state"]["end_reason"] == "completed"
    transcript = json.loads((folder / "transcript.json").read_text())
    assert len(transcript) == len(store.turns(interview_id)) > 20
    assert json.loads((folder / "evaluations.json").read_text())[0]["decision"] == "Hire"
    assert (folder / "reports" / "report.json").is_file()
    assert (folder / "run" / "journal.jsonl").is_file() and (folder / "run" / "conversation.wav").is_file()

    output = await _sima(config, "interviews", "delete", interview_id, "--yes")
    assert f"deleted {interview_id}" in output
    assert store.interview(interview_id) is None and store.turns(interview_id) == []
    assert store.evaluations(interview_id) == [] and store.pending_jobs() == []
    assert not (tmp_path / "runs" / interview_id).exists() and not report.exists()
    store.close()


async def test_retention_deletes_only_interviews_past_their_time(tmp_path: Path) -> None:
    async with ScriptedOpenAI(lambda body: Reply(text=ACK)) as server:
        config_path = write_config(tmp_path, server.base_url, storage={"retention_days": 30})
        interview_id = await _interview(config_path)
    config = load_config(config_path)
    store = Store(config.storage.url)
    assert enforce_retention(store, config, now=datetime.now(UTC) + timedelta(days=29)) == []
    assert store.interview(interview_id) is not None
    [deleted] = enforce_retention(store, config, now=datetime.now(UTC) + timedelta(days=31))
    assert deleted.interview_id == interview_id and deleted.in_database and deleted.files >= 1
    assert store.interview(interview_id) is None and not (tmp_path / "runs" / interview_id).exists()
    store.close()
