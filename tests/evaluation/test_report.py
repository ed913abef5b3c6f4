"""Reports: the seed's JSON keys (extended), sanitised file names, a self-contained and escaped HTML file."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from evaluation.aggregate import assess
from evaluation.evidence import CandidateText, verify_sample
from evaluation.html import render_html
from evaluation.judge import JudgeOutput
from evaluation.report import EvaluationReport, build_report, report_stem, safe_part, write_reports
from evaluation.settings import EvaluationSettings
from tests.evaluation.helpers import ROOT, judge_json, make_record

AT = datetime(2026, 1, 23, 14, 30, 52, tzinfo=UTC)
TEMPLATES = ROOT / "prompt_templates"


def make_report(record=None, reply: str | None = None) -> EvaluationReport:  # type: ignore[no-untyped-def]
    record = record or make_record()
    sample = verify_sample(JudgeOutput.model_validate_json(reply or judge_json(7)), CandidateText(record.turns))
    return build_report(record, assess([sample], EvaluationSettings(), record.warnings), judge_model="judge-model",
                        evaluated_at=AT)


def test_json_keeps_the_seed_keys() -> None:
    data = json.loads(make_report().model_dump_json())
    assert list(data)[:3] == ["metadata", "ratings", "recommendation"]
    assert {"candidate_name", "position", "interview_date", "duration_minutes"} <= set(data["metadata"])
    assert {"overall_score", "technical_competency", "problem_solving", "communication", "experience",
            "culture_fit"} <= set(data["ratings"])
    assert {"decision", "role_fit_percentage"} <= set(data["recommendation"])
    assert data["metadata"]["candidate_name"] == "Priya Sharma"
    assert data["metadata"]["duration_minutes"] == 21 and isinstance(data["metadata"]["duration_minutes"], int)
    assert data["ratings"]["overall_score"] == 7.0 and data["recommendation"]["decision"] == "Hire"


def test_json_extensions() -> None:
    data = json.loads(make_report().model_dump_json())
    assert data["metadata"]["bank_version"] == "backend@v1+abc" and data["metadata"]["config_hash"] == "cfg123"
    tech = data["dimensions"]["technical_competency"]
    assert tech["evidence"][0]["quote"] == "a token bucket per client, stored in Redis"
    assert tech["confidence"]["level"] == "high" and tech["unverified_quotes"] == 0
    assert data["evidence"] == {"verified_quotes": 5, "unverified_quotes": 0}
    assert [(p["phase"], p["used_minutes"], p["questions"]) for p in data["phases"]][1] == \
        ("technical", 7.0, ["be-mid-tech-ratelimit"])
    assert data["latency"]["e2e_latency"]["count"] == 3
    assert data["latency"]["transcription_delay"]["mean"] == 0.2
    assert len(data["transcript"]) == 6


def test_unverified_quotes_are_counted_in_the_report() -> None:
    reply = judge_json(7, quotes={d: [(3, "I designed the whole of AWS myself")] for d in ("technical_competency",)})
    data = json.loads(make_report(reply=reply).model_dump_json())
    assert data["evidence"]["unverified_quotes"] == 1
    assert data["dimensions"]["technical_competency"]["unverified_quotes"] == 1
    assert set(data["confidence"]["low_confidence"]) == {"technical_competency", "problem_solving", "communication",
                                                         "experience", "culture_fit"}


@pytest.mark.parametrize(("name", "part"), [
    ("../../etc/passwd", "etc_passwd"), ("Priya Sharma", "Priya_Sharma"), ("", "candidate"), ("..", "candidate"),
    ("a/b\\c:d*e?f", "a_b_c_d_e_f"), ("x" * 300, "x" * 40), ("李 雷", "李_雷"), ("\x00\n", "candidate"),
])
def test_names_are_sanitised(name: str, part: str) -> None:
    assert safe_part(name, "candidate") == part


def test_files_land_inside_the_folder_whatever_the_name(tmp_path: Path) -> None:
    record = make_record(candidate_name="../../etc/passwd").model_copy(update={"position": "../../../root/.ssh"})
    report = make_report(record)
    out = tmp_path / "evaluations"
    json_path, html_path = write_reports(report, "<html></html>", out, AT)
    assert json_path.name == "etc_passwd_root_ssh_20260123_143052.json"
    assert json_path.resolve().parent == out.resolve() == html_path.resolve().parent
    assert json.loads(json_path.read_text())["metadata"]["candidate_name"] == "../../etc/passwd"


def test_reports_in_the_same_second_never_overwrite(tmp_path: Path) -> None:
    report = make_report()
    first = write_reports(report, "a", tmp_path, AT)
    second = write_reports(report, "b", tmp_path, AT)
    assert first[0].name == "Priya_Sharma_Backend_Developer_20260123_143052.json"
    assert second[0].name == "Priya_Sharma_Backend_Developer_20260123_143052_2.json"
    assert second[1].read_text() == "b" and first[1].read_text() == "a"
    assert report_stem(None, "", AT) == "candidate_position_20260123_143052"


def test_html_is_self_contained_and_escapes_the_transcript() -> None:
    evil = "<script>alert('x')</script> <img src=http://evil.example/x.png> I rebuilt the payment service twice"
    record = make_record(candidate_name="<b>Mallory</b>", extra_turns=[evil])
    reply = judge_json(6, quotes={"culture_fit": [(6, "I rebuilt the payment service twice")]})  # type: ignore[dict-item]
    html = render_html(make_report(record, reply), TEMPLATES)
    assert "<script" not in html and "<img" not in html and "<b>Mallory" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;Mallory&lt;/b&gt;" in html
    tags = re.findall(r"<[^>]*>", html)
    assert not [t for t in tags if "//" in t]  # no external assets: no URL in any tag
    assert "<link" not in html and "@import" not in html
    assert html.count("<svg") == 2  # the dimension chart and the phase timeline


def test_html_highlights_verified_evidence_in_the_transcript() -> None:
    html = render_html(make_report(), TEMPLATES)
    assert '<mark title="Technical competency">a token bucket per client, stored in Redis' in html
    assert 'id="t3"' in html and 'href="#t3"' in html
    assert ">Hire<" in html and "Priya Sharma" in html
