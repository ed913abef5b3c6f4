"""`sima simulate` with the real local models: a typed interview through all six phases, evaluated into a report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.phases import PHASE_ORDER
from engine.transcript import Speaker
from sima.context import load_context
from sima.simulation.persona import load_persona
from sima.simulation.run import latency_rows, simulate_interview
from tests.conftest import ROOT


@pytest.mark.local_models
async def test_text_simulation_visits_all_phases_and_writes_reports(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("SIMA_STORAGE__URL", f"sqlite:///{tmp_path / 'sima.db'}")
    monkeypatch.setenv("SIMA_PATHS__RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("SIMA_EVALUATION__OUTPUT_DIR", str(tmp_path / "evaluations"))
    monkeypatch.chdir(ROOT)
    app = load_context(ROOT / "config.yaml")
    persona = load_persona("ada-devops-scripted", app.config.paths.personas)

    # ×30 ran out of interview time under a full test run's load
    outcome = await simulate_interview(app, persona, text=True, time_scale=15)

    record = outcome.record
    assert [p.phase for p in record.phases] == list(PHASE_ORDER)
    assert record.role == "devops" and record.candidate_name == "Ada Novak"
    spoken = [t for t in record.turns if t.speaker is Speaker.CANDIDATE]
    assert spoken[0].text == persona.scripted_answers[0]
    saved = json.loads(outcome.files["transcript"].read_text())
    assert len(saved["turns"]) == len(record.turns)
    latency = json.loads(outcome.files["latency"].read_text())
    assert latency["answer_alignment"]["share"] == 1.0 == outcome.alignment.share  # every answer filed right
    assert len(saved["answers"]) >= len(spoken)  # how each turn was read
    assert outcome.evaluation is not None and outcome.evaluation.status == "done", outcome.evaluation
    report = json.loads(Path(outcome.evaluation.json_path).read_text())
    assert report["metadata"]["candidate_name"] == "Ada Novak"
    assert report["recommendation"]["decision"] in {"Strong Hire", "Hire", "Maybe", "No Hire"}
    assert {p["phase"] for p in report["phases"]} == {p.value for p in PHASE_ORDER}
    assert Path(outcome.evaluation.html_path).read_text().startswith("<!DOCTYPE html>")


def test_latency_rows_pair_each_answer_with_the_reply():
    from engine.transcript import Turn, TurnMetrics

    turns = [
        Turn(index=0, speaker=Speaker.AGENT, text="Hi"),
        Turn(index=1, speaker=Speaker.CANDIDATE, text="Hello",
             metrics=TurnMetrics(end_of_turn_delay=0.6, transcription_delay=0.3)),
        Turn(index=2, speaker=Speaker.AGENT, text="Tell me more",
             metrics=TurnMetrics(llm_ttft=0.9, tts_ttfb=0.1, e2e_latency=1.7)),
        Turn(index=3, speaker=Speaker.CANDIDATE, text="Sure"),
    ]
    [row] = latency_rows(turns)
    assert (row.turn, row.eou_s, row.stt_s, row.llm_ttft_s, row.tts_ttfb_s, row.e2e_s) == (2, 0.6, 0.3, 0.9, 0.1, 1.7)
