"""`sima simulate --text` is SIGKILLed mid-interview, and `sima simulate --resume ID` continues it to the end, with
the report; the scripted persona's script goes on where it stopped (models and judge: a scripted server)."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import Any

from engine.phases import PHASE_ORDER
from engine.transcript import Speaker
from sima.simulation.persona import load_persona
from storage.store import Store
from tests.conftest import ROOT
from tests.reliability.schema_judge import fitting_reply
from tests.reliability.support import ACK, start_sima, write_config
from tests.support.openai_server import Reply, ScriptedOpenAI

PERSONA = "ada-devops-scripted"


def _model(body: dict[str, Any]) -> Reply:
    return fitting_reply(body) if body.get("response_format") else Reply(text=ACK)


async def _agent_lines(proc: asyncio.subprocess.Process, count: int) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []
    while len(lines) < count:
        raw = await asyncio.wait_for(proc.stdout.readline(), 60)
        assert raw, "the simulation ended before it was killed"
        text = raw.decode().strip()
        if text.startswith("SIMA "):
            lines.append(text.removeprefix("SIMA").strip())
    return lines


async def test_a_killed_simulation_is_resumed_to_the_end_with_its_report(tmp_path: Path) -> None:
    async with ScriptedOpenAI(_model) as server:
        config = write_config(tmp_path, server.base_url)
        proc = await start_sima(config, "simulate", "--persona", PERSONA, "--text", "--time-scale", "5")
        before = await _agent_lines(proc, 6)
        proc.send_signal(signal.SIGKILL)
        await proc.communicate()
        [journal] = list((tmp_path / "runs").glob("*/journal.jsonl"))
        interview_id = journal.parent.name

        proc = await start_sima(config, "simulate", "--persona", PERSONA, "--text", "--time-scale", "5",
                                "--resume", interview_id)
        out, err = await asyncio.wait_for(proc.communicate(), 180)
    output = out.decode()
    assert proc.returncode == 0, (output + err.decode())[-3000:]
    assert "report:" in output and "Welcome back" in output

    store = Store(f"sqlite:///{tmp_path / 'sima.db'}")
    turns = store.turns(interview_id)
    agent = [t.text for t in turns if t.speaker is Speaker.AGENT]
    assert all(any(line in text for text in agent) for line in before)  # what was said before the kill is kept
    answers = [t.text for t in turns if t.speaker is Speaker.CANDIDATE]
    script = load_persona(PERSONA, ROOT / "personas").scripted_answers
    assert answers[:len(script)] == script[:len(answers)]  # the script went on, none said twice or skipped
    snapshot = store.load_snapshot(interview_id)
    assert snapshot is not None and snapshot.end_reason == "completed"
    assert [p.phase for p in snapshot.phases] == list(PHASE_ORDER)
    assert store.pending_jobs() == []  # evaluated
    [evaluation] = store.evaluations(interview_id)
    assert Path(evaluation.json_path).is_file()
    transcript = json.loads((tmp_path / "runs" / interview_id / "transcript.json").read_text())
    assert len(transcript["turns"]) == len(turns)
    store.close()
