"""A candidate's data: everything kept about an interview exported in one folder, or deleted everywhere (database
rows, journal, reports, audio); retention deletes interviews older than `storage.retention_days`.

Example::

    >>> export_interview(store, config, "3f2a", Path("exports"))     # doctest: +SKIP
    PosixPath('exports/3f2a')
    >>> delete_interview(store, config, "3f2a").files                # doctest: +SKIP
    4
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline.journal import safe_interview_id
from sima.config import AppConfig
from storage.outbox import Outbox
from storage.store import Store

log = logging.getLogger(__name__)


class NotFound(Exception):
    pass


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def export_interview(store: Store, config: AppConfig, interview_id: str, out: Path) -> Path:
    """Write `out/<id>/`: interview.json (facts, consent, engine state), transcript.json, evaluations.json, the
    report files, and the run folder (journal, audio); return the folder."""
    safe_interview_id(interview_id)
    info = store.interview(interview_id)
    run_dir = config.paths.runs / interview_id
    if info is None and not run_dir.exists():
        raise NotFound(f"no interview '{interview_id}'")
    folder = out / interview_id
    folder.mkdir(parents=True, exist_ok=True)
    snapshot = store.load_snapshot(interview_id)
    facts: dict[str, Any] = {"interview_id": interview_id}
    if info is not None:
        facts |= {"candidate_name": info.candidate_name, "role": info.role, "level": info.level,
                  "started_at": _when(info.started_at), "ended_at": _when(info.ended_at),
                  "end_reason": info.end_reason, "room": info.room, "invitation_id": info.invitation_id,
                  "consent": {"given_at": _when(info.consent_at), "text": info.consent_text}}
    facts["engine_state"] = snapshot.model_dump(mode="json") if snapshot else None
    (folder / "interview.json").write_text(json.dumps(facts, indent=2, ensure_ascii=False))
    turns = [t.model_dump(mode="json") for t in store.turns(interview_id)]
    (folder / "transcript.json").write_text(json.dumps(turns, indent=2, ensure_ascii=False))
    evaluations = store.evaluations(interview_id)
    (folder / "evaluations.json").write_text(json.dumps(
        [{"id": e.id, "created_at": _when(e.created_at), "decision": e.decision, "overall_score": e.overall_score,
          "role_fit_percentage": e.role_fit_percentage, "report": e.report} for e in evaluations],
        indent=2, ensure_ascii=False))
    reports = folder / "reports"
    for e in evaluations:
        for name in (e.json_path, e.html_path):
            if Path(name).is_file():
                reports.mkdir(exist_ok=True)
                shutil.copy2(name, reports / Path(name).name)
    if run_dir.is_dir():  # the journal, and the audio where there is any
        shutil.copytree(run_dir, folder / "run", dirs_exist_ok=True)
    webhooks = [{"event": d.event, "url": d.url, "status": d.status.value, "attempts": d.attempts}
                for d in Outbox(store).deliveries(interview_id=interview_id)]
    (folder / "webhooks.json").write_text(json.dumps(webhooks, indent=2))
    return folder


@dataclass(frozen=True)
class Deleted:
    interview_id: str
    in_database: bool
    files: int  # report files and run-folder files removed


def delete_interview(store: Store, config: AppConfig, interview_id: str) -> Deleted:
    """Delete the interview everywhere: database rows (turns, jobs, evaluations, webhooks), its reports, and its run
    folder (journal, transcript, audio). Deleting what is already gone deletes nothing and is not an error."""
    safe_interview_id(interview_id)
    in_database = store.interview(interview_id) is not None
    reports = store.delete_interview(interview_id)
    files = 0
    for name in reports:
        path = Path(name)
        if path.is_file():
            path.unlink()
            files += 1
    run_dir = config.paths.runs / interview_id
    if run_dir.is_dir():
        files += sum(1 for p in run_dir.rglob("*") if p.is_file())
        shutil.rmtree(run_dir)
    log.info("interview %s deleted (%s, %d files)", interview_id, "database rows" if in_database else "no rows",
             files)
    return Deleted(interview_id, in_database, files)


def enforce_retention(store: Store, config: AppConfig, *, now: datetime) -> list[Deleted]:
    """Delete every interview older than `storage.retention_days` (nothing when it is not set)."""
    days = config.storage.retention_days
    if days is None:
        return []
    expired = store.interviews_before(now - timedelta(days=days))
    deleted = [delete_interview(store, config, interview_id) for interview_id in expired]
    if deleted:
        log.info("retention (%g days): deleted %d interview(s)", days, len(deleted))
    return deleted
