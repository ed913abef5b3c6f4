"""Reports: the seed's JSON keys (extended), sanitised file names, a self-contained and escaped HTML file."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.transcript import ModelUsage, SessionUsage
from evaluation.html import render_html
from evaluation.report import EvaluationReport, JudgeCost, build_report, report_stem, safe_part, write_reports
from evaluation.service import interview_usage
from evaluation.settings import EvaluationSettings, Price
from tests.evaluation.helpers import ROOT, assessed, make_record

AT = datetime(2026, 1, 23, 14, 30, 52, tzinfo=UTC)
TEMPLATES = ROOT / "prompt_templates"
COST = JudgeCost(model="judge-model", calls=6, failed_calls=0, prompt_tokens=3000, completion_tokens=600,
                 seconds=84.2, estimated_cost_usd=None)


def make_report(record=None) -> EvaluationReport:  # type: ignore[no-untyped-def]
    record = record or make_record()
    return build_report(record, assessed(record), judge_model="judge-model", evaluated_at=AT, judge=COST)


def test_json_keeps_the_seed_keys() -> None:
    data = json.loads(make_report().model_dump_json())
    assert list(data)[:3] == ["metadata", "ratings", "recommendation"]
    assert {"candidate_name", "position", "interview_date", "duration_minutes"} <= set(data["metadata"])
    assert {"overall_score", "technical_competency", "problem_solving", "communication", "experience",
            "culture_fit"} <= set(data["ratings"])
    assert {"decision", "role_fit_percentage"} <= set(data["recommendation"])
    assert data["metadata"]["candidate_name"] == "Priya Sharma"
    assert data["metadata"]["duration_minutes"] == 7 and isinstance(data["metadata"]["duration_minutes"], int)
    assert data["recommendation"]["decision"] in ("Hire", "Strong Hire")


def test_json_has_a_section_per_question() -> None:
    data = json.loads(make_report().model_dump_json())
    questions = data["per_question"]
    assert [q["question_id"] for q in questions][:3] == ["gen-common-intro-01", "be-mid-exp-02", "be-mid-tech-06"]
    tech = questions[2]
    assert tech["question"].startswith("How would you implement rate limiting")
    assert tech["answer_excerpt"].startswith("I would use a token bucket per API key.")
    assert tech["score"] is not None and tech["status"] == "scored" and tech["rubric"] == "bank"
    covered = [p for p in tech["points"] if p["status"] == "covered"]
    assert covered and all(p["evidence"][0]["turn"] == 5 for p in covered)
    assert {p["status"] for p in tech["points"]} <= {"covered", "partly", "missing"}
    assert data["judge"] == COST.model_dump()
    assert data["phase_scores"]["technical"] is not None


def test_json_extensions() -> None:
    data = json.loads(make_report().model_dump_json())
    assert data["metadata"]["bank_version"] == "backend@v1+abc" and data["metadata"]["config_hash"] == "cfg123"
    tech = data["dimensions"]["technical_competency"]
    assert tech["evidence"] and tech["confidence"]["level"] == "high" and tech["answers"] == [3, 4, 6]
    assert data["evidence"]["answers_scored"] == 7 and data["evidence"]["verified_quotes"] > 0
    assert [(p["phase"], p["questions"]) for p in data["phases"]][2] == ("technical", ["be-mid-tech-06"])
    assert data["latency"]["e2e_latency"]["count"] == 7
    assert len(data["transcript"]) == 14


def test_an_incomplete_interview_says_why_and_shows_what_was_not_assessed() -> None:
    report = make_report(make_record(exchanges=3))
    data = json.loads(report.model_dump_json())
    assert data["recommendation"]["decision"] == "Incomplete" and data["recommendation"]["incomplete"]
    assert data["ratings"]["culture_fit"] is None and data["phase_scores"]["scenario"] is None
    html = render_html(report, TEMPLATES)
    assert ">Incomplete<" in html and "Incomplete: Behavioral: not reached" in html and "not assessed" in html


def test_the_interviews_own_usage_is_reported_beside_the_judge_and_priced_like_it() -> None:
    record = make_record().model_copy(update={"usage": SessionUsage(models=[
        ModelUsage(kind="llm", provider="openai", model="gpt-4o-mini", prompt_tokens=200_000, completion_tokens=10_000),
        ModelUsage(kind="stt", provider="deepgram", model="nova-3", audio_seconds=312.5),
        ModelUsage(kind="tts", provider="openai", model="tts-1", characters=4200, audio_seconds=280.0),
    ])})
    settings = EvaluationSettings(prices={"gpt-4o-mini": Price(input_per_million=0.15, output_per_million=0.6)})
    usage = interview_usage(record.usage, settings)
    report = build_report(record, assessed(record), judge_model="judge-model", evaluated_at=AT, judge=COST,
                          interview_usage=usage)
    data = json.loads(report.model_dump_json())
    assert data["judge"] == COST.model_dump()  # the judge's key is untouched
    llm, stt, tts = data["interview_usage"]["models"]
    assert (llm["model"], llm["prompt_tokens"], llm["completion_tokens"]) == ("gpt-4o-mini", 200_000, 10_000)
    assert llm["estimated_cost_usd"] == 0.036  # 0.2 M × 0.15 + 0.01 M × 0.6
    assert stt["audio_seconds"] == 312.5 and stt["estimated_cost_usd"] is None  # no STT/TTS prices
    assert tts["characters"] == 4200 and tts["estimated_cost_usd"] is None
    assert data["interview_usage"]["estimated_cost_usd"] == 0.036
    html = render_html(report, TEMPLATES)
    assert "Interview: LLM gpt-4o-mini 200000 prompt + 10000 completion tokens; STT nova-3 312.5 s of audio; " \
           "TTS tts-1 4200 characters, 280.0 s of audio, about $0.0360." in html
    # no price for the model: counted, not priced; no usage recorded: null, and no line
    assert interview_usage(record.usage, EvaluationSettings()).estimated_cost_usd is None  # type: ignore[union-attr]
    assert interview_usage(None, settings) is None
    plain = make_report()
    assert json.loads(plain.model_dump_json())["interview_usage"] is None
    assert "Interview: LLM" not in render_html(plain, TEMPLATES)


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
    html = render_html(make_report(record), TEMPLATES)
    assert "<script" not in html and "<img" not in html and "<b>Mallory" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;Mallory&lt;/b&gt;" in html
    tags = re.findall(r"<[^>]*>", html)
    assert not [t for t in tags if "//" in t]  # no external assets: no URL in any tag
    assert "<link" not in html and "@import" not in html
    assert html.count("<svg") == 2  # the dimension chart and the phase timeline


def test_html_shows_every_question_and_highlights_its_evidence_in_the_transcript() -> None:
    report = make_report()
    html = render_html(report, TEMPLATES)
    tech = report.per_question[2]
    quote = next(p.evidence[0] for p in tech.points if p.status == "covered")
    assert f'<mark title="Q3 covered">{quote.quote}' in html
    assert 'id="q3"' in html and f'href="#t{quote.turn}"' in html and "✔ covered" in html
    assert "Priya Sharma" in html and "Judging: 6 call(s)" in html
