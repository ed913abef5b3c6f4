"""Reading a conversation from a file: LiveKit chat histories and SIMA transcripts, with name and role detection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.banks import BankSet
from engine.transcript import Speaker, Turn
from engine.yamlsrc import SourceError
from evaluation.chat_history import detect_name, detect_role, read_transcript
from tests.evaluation.chat_history_sample import CONVERSATION, chat_history
from tests.evaluation.helpers import make_record


def write(tmp_path: Path, data: object, name: str = "p_64yg1tqalc3_RM_DNxSHzpBpqtT_chat_history.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_livekit_chat_history(tmp_path: Path, shipped_banks: BankSet) -> None:
    record = read_transcript(write(tmp_path, chat_history()), shipped_banks)
    assert [(t.speaker, t.text) for t in record.turns] == [
        (Speaker.AGENT if role == "assistant" else Speaker.CANDIDATE, text) for role, text in CONVERSATION]
    assert record.candidate_name == "Aman Verma"
    assert (record.role, record.position) == ("ai-ml", "AI/ML Engineer")
    assert record.started_at.isoformat() == "2026-01-23T14:30:52+00:00"
    assert record.turns[1].started_at == 10.0 and record.turns[1].ended_at == 38.0  # from the speaking times
    assert record.turns[1].metrics and record.turns[1].metrics.transcription_delay == 0.25
    assert record.turns[2].metrics and record.turns[2].metrics.llm_ttft == 0.4
    assert record.duration_seconds == 198.0  # the candidate stopped speaking 2 s before the last item
    assert record.bank_version and record.bank_version.startswith("ai-ml@v")
    assert record.interview_id.startswith("file-")


def test_chat_history_without_timestamps_estimates_the_duration(tmp_path: Path, shipped_banks: BankSet) -> None:
    data = chat_history(timestamps=False)
    for item in data["items"]:
        item.pop("metrics", None)
    record = read_transcript(write(tmp_path, data), shipped_banks)
    words = sum(len(text.split()) for _, text in CONVERSATION)
    assert record.duration_seconds == pytest.approx(words / 150 * 60)
    assert record.turns[0].started_at is None


def test_the_same_file_is_the_same_interview(tmp_path: Path, shipped_banks: BankSet) -> None:
    path = write(tmp_path, chat_history())
    assert read_transcript(path, shipped_banks).interview_id == read_transcript(path, shipped_banks).interview_id


def test_sima_record_is_read_as_is(tmp_path: Path, shipped_banks: BankSet) -> None:
    record = make_record()
    path = tmp_path / "record.json"
    path.write_text(record.model_dump_json())
    assert read_transcript(path, shipped_banks) == record


def test_sima_turns_with_given_facts(tmp_path: Path, shipped_banks: BankSet) -> None:
    turns = [t.model_dump(mode="json") for t in make_record().turns]
    given = read_transcript(write(tmp_path, {"turns": turns, "candidate_name": "P. Sharma", "role": "frontend"}),
                            shipped_banks)
    assert (given.candidate_name, given.role, given.position) == ("P. Sharma", "frontend", "Frontend Developer")
    detected = read_transcript(write(tmp_path, turns, "turns.json"), shipped_banks)
    assert (detected.candidate_name, detected.role) == ("Priya Sharma", "backend")


@pytest.mark.parametrize(("content", "message"), [
    ("{\n  \"items\": [\n    oops\n  ]\n}", ":3: not JSON"),
    (json.dumps({"something": "else"}), "neither a LiveKit chat history"),
    (json.dumps({"items": [{"type": "message", "role": "assistant", "content": ["Hello?"]}]}), "no candidate turns"),
    (json.dumps({"turns": [{"index": -1, "speaker": "candidate", "text": "x"}]}), "turns.0.index"),
])
def test_bad_files_are_reported_with_file_and_line(tmp_path: Path, shipped_banks: BankSet, content: str,
                                                   message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(SourceError) as error:
        read_transcript(path, shipped_banks)
    assert str(error.value).startswith(str(path)) and message in str(error.value)


def candidate(*texts: str) -> list[Turn]:
    return [Turn(index=i, speaker=Speaker.CANDIDATE, text=t) for i, t in enumerate(texts)]


@pytest.mark.parametrize(("text", "name"), [
    ("My name is Priya Sharma and I build APIs.", "Priya Sharma"),
    ("my name is priya and I am a developer", "Priya"),
    ("Hi, I'm Rahul. I have five years of experience.", "Rahul"),
    ("Hello, I'm Zoë O'Neil, a designer.", "Zoë O'Neil"),
    ("This is Chen speaking.", "Chen"),
    ("I'm excited to be here.", None),
    ("I am Java certified and I love it.", None),
    ("I'm a backend developer.", None),
    ("this is my first interview", None),
    ("My name's not important.", None),
])
def test_name_detection(text: str, name: str | None) -> None:
    assert detect_name(candidate(text)) == name


def test_names_are_only_taken_from_the_candidate_and_early_on() -> None:
    agent = [Turn(index=0, speaker=Speaker.AGENT, text="Hi, I'm Sima.")]
    assert detect_name(agent + candidate("Hello.")) is None
    assert detect_name(candidate("Hello.", "Yes.", "Sure.", "I'm Rahul.")) is None


def test_role_detection_takes_the_first_candidate_turn_naming_one(shipped_banks: BankSet) -> None:
    turns = candidate("I'm applying for the frontend developer role.", "Before that I was a backend developer.")
    assert detect_role(turns, shipped_banks) == "frontend"
    assert detect_role(candidate("I like people."), shipped_banks) == "generic"
