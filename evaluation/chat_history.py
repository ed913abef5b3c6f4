"""Reading a finished conversation from a file, for `sima evaluate`: the seed's manual fallback.

Two shapes are accepted:

- a LiveKit chat history, `session.history.to_dict()`: `{"items": [{"type": "message", "role": "user", "content":
  ["..."], "created_at": ..., "metrics": {...}}, {"type": "function_call", ...}, ...]}`. Only user and assistant
  messages become turns; function calls, handoffs, config updates and system messages are skipped.
- SIMA's own transcript: an :class:`~engine.transcript.InterviewRecord` as JSON, or `{"turns": [...]}` (optionally
  with `candidate_name`, `position`, `role`), or a bare list of turns.

Missing facts are filled in: the role by the question banks' role names and aliases (`BankSet.match_role`, first
candidate turn that names one), the name by the phrases candidates introduce themselves with ("my name is X",
"I'm X", "this is X"). The duration comes from timestamps, or is estimated at 150 spoken words a minute. Each
interviewer question without a recorded `question_id` is matched to the bank question (or follow-up) whose words it
says, which gives it its phase and rubric; a question that matches none gets its phase from its wording ("tell me about
a time" is behavioral) or its place in the interview, and is scored against that phase's generic rubric.

Example::

    >>> record = read_transcript(Path("Json_conversation/p_64yg_chat_history.json"), banks)   # doctest: +SKIP
    >>> record.candidate_name, record.position                                                # doctest: +SKIP
    ('Aman', 'AI/ML Engineer')
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from engine.banks import GENERIC_ROLE, BankSet
from engine.phases import PHASE_ORDER, Phase
from engine.transcript import AskedQuestionDetail, InterviewRecord, Speaker, Turn, TurnMetrics
from engine.yamlsrc import SourceError, SourceProblem
from evaluation.exchanges import asks
from evaluation.validation import first_error

SPOKEN_WORDS_PER_MINUTE = 150
NAME_SEARCH_TURNS = 3  # candidates introduce themselves at the start; later "I'm X" is rarely a name
T = TypeVar("T")
_TURNS = TypeAdapter(list[Turn])
_RECORD = TypeAdapter(InterviewRecord)
_SPEAKERS = {"user": Speaker.CANDIDATE, "assistant": Speaker.AGENT}
_METRICS = {"transcription_delay": "transcription_delay", "end_of_turn_delay": "end_of_turn_delay",
            "llm_node_ttft": "llm_ttft", "tts_node_ttfb": "tts_ttfb", "e2e_latency": "e2e_latency"}
_NAME_WORD = r"[^\W\d_][\w'’-]*"
_TWO_WORDS = rf"({_NAME_WORD}(?:\s+{_NAME_WORD})?)"
_FEWEST_WORDS = rf"({_NAME_WORD}(?:\s+{_NAME_WORD})??)"  # lazy: "Rahul" in "this is Rahul speaking"
# "my name is" is unambiguous, so the words after it are the name, capitalised or not. "I'm" / "this is" are not: they
# need capitalised words that end the clause ("I'm Priya, ...", "I'm Priya and ..."), which "I'm excited" or
# "I'm Java certified" are not.
_MY_NAME = re.compile(rf"(?i:\bmy name(?:'s| is)\s+){_TWO_WORDS}")
_I_AM = re.compile(rf"(?i:\b(?:i'm|i’m|i am|this is|call me)\s+){_FEWEST_WORDS}"
                   r"(?=\s*(?:[,.!;]|$)|\s+(?i:and|from|here|speaking)\b)")
_NOT_NAMES = {"a", "an", "the", "here", "not", "so", "very", "really", "just", "currently", "applying", "looking",
              "interested", "ready", "happy", "glad", "excited", "fine", "good", "great", "okay", "ok", "sorry",
              "sure", "yes", "no", "well"}


def _problem(path: Path, message: str, line: int = 0) -> SourceError:
    return SourceError([SourceProblem(str(path), line, "", message)])


def _validated(path: Path, adapter: TypeAdapter[T], data: Any, prefix: str) -> T:
    """`data` validated; the error names the JSON path of the first problem, and how many there are."""
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        raise _problem(path, first_error(exc, prefix)) from exc


def detect_name(turns: list[Turn]) -> str | None:
    """The name a candidate gave in their first turns, if any.

    >>> detect_name([Turn(index=0, speaker=Speaker.CANDIDATE, text="Hi! I'm Priya Sharma, a backend developer.")])
    'Priya Sharma'
    >>> detect_name([Turn(index=0, speaker=Speaker.CANDIDATE, text="I'm Java certified and I am excited.")]) is None
    True
    """
    for turn in [t for t in turns if t.speaker is Speaker.CANDIDATE][:NAME_SEARCH_TURNS]:
        for pattern in (_MY_NAME, _I_AM):
            for match in pattern.finditer(turn.text):
                words = match.group(1).split()
                capitalised = [w for w in words if w[0].isupper()]
                if pattern is _I_AM and capitalised != words:
                    continue
                name = capitalised or words[:1]
                if name[0].lower() not in _NOT_NAMES:
                    return " ".join(w[0].upper() + w[1:] for w in name)
    return None


def detect_role(turns: list[Turn], banks: BankSet) -> str:
    """The role the first candidate turn naming one names; the generic bank's if none does."""
    for turn in turns:
        if turn.speaker is Speaker.CANDIDATE and (role := banks.match_role(turn.text)):
            return role
    return GENERIC_ROLE


def _chat_turns(items: list[Any]) -> tuple[list[Turn], float | None]:
    """Turns from chat-history items, with times relative to the first timestamp; and that timestamp."""
    kept = []
    for item in items:
        if not isinstance(item, dict) or item.get("type", "message") != "message":
            continue
        speaker = _SPEAKERS.get(item.get("role", ""))
        content = item.get("content")
        text = " ".join(c.strip() for c in content if isinstance(c, str)) if isinstance(content, list) else ""
        if speaker and text.strip():
            kept.append((speaker, text.strip(), item))
    stamps = [t for _, _, item in kept for t in (item.get("created_at"), (item.get("metrics") or {}).get(
        "started_speaking_at")) if isinstance(t, int | float)]
    origin = min(stamps) if stamps else None

    def rel(value: Any) -> float | None:
        return round(value - origin, 3) if origin is not None and isinstance(value, int | float) else None

    turns = []
    for i, (speaker, text, item) in enumerate(kept):
        m = item.get("metrics") or {}
        metrics = {ours: m[theirs] for theirs, ours in _METRICS.items() if isinstance(m.get(theirs), int | float)}
        turns.append(Turn(index=i, speaker=speaker, text=text,
                          started_at=rel(m.get("started_speaking_at", item.get("created_at"))),
                          ended_at=rel(m.get("stopped_speaking_at")), interrupted=bool(item.get("interrupted")),
                          stt_confidence=conf if isinstance(conf := item.get("transcript_confidence"), float) else None,
                          metrics=TurnMetrics(**metrics) if metrics else None))
    return turns, origin


def _duration(turns: list[Turn]) -> float:
    ends = [t.ended_at if t.ended_at is not None else t.started_at for t in turns]
    timed = [e for e in ends if e is not None]
    if len(timed) >= 2:
        return max(timed)
    return sum(len(t.text.split()) for t in turns) / SPOKEN_WORDS_PER_MINUTE * 60


# How interviewers word each kind of question, for questions no bank has: the first cue found names the phase.
_PHASE_CUES = [
    (Phase.WRAP_UP, re.compile(r"\b(?:any questions for (?:me|us)|anything (?:else )?you(?:'d| would) like to "
                               r"(?:ask|add)|questions about the (?:role|team))\b", re.IGNORECASE)),
    (Phase.INTRODUCTION, re.compile(r"\b(?:introduce yourself|tell me about yourself|walk me through your "
                                    r"background)\b", re.IGNORECASE)),
    (Phase.BEHAVIORAL, re.compile(r"\b(?:tell me about a time|describe a (?:time|situation)|give me an example of a "
                                  r"time|have you ever had to)\b", re.IGNORECASE)),
    (Phase.SCENARIO, re.compile(r"\b(?:imagine|suppose|let's say|what would you do if|walk me through how you'd)\b",
                                re.IGNORECASE)),
    (Phase.EXPERIENCE, re.compile(r"\b(?:tell me about (?:a|the) (?:project|system|service)|in your (?:last|current) "
                                  r"role|you(?:'ve| have) (?:built|worked on|led))\b", re.IGNORECASE)),
]


def phase_of(text: str, index: int, total: int) -> Phase:
    """A phase for a question no bank has: by its wording, else by its place in the interview (the six phases over
    equal shares of the turns).

    >>> phase_of("Tell me about a time you disagreed with a teammate.", 4, 6)
    <Phase.BEHAVIORAL: 'behavioral'>
    >>> phase_of("How do you detect data drift?", 2, 6), phase_of("And then?", 29, 30)
    (<Phase.TECHNICAL: 'technical'>, <Phase.WRAP_UP: 'wrap_up'>)
    """
    for phase, cue in _PHASE_CUES:
        if cue.search(text):
            return phase
    return PHASE_ORDER[min(index * len(PHASE_ORDER) // max(total, 1), len(PHASE_ORDER) - 1)]


def link_questions(turns: list[Turn], role: str, banks: BankSet) -> tuple[list[Turn], list[AskedQuestionDetail]]:
    """Turns with phase and question id where the banks recognise the question, and the asked bank questions."""
    out: list[Turn] = []
    asked: dict[str, AskedQuestionDetail] = {}
    phase, current = Phase.INTRODUCTION, None
    for i, turn in enumerate(turns):
        if turn.speaker is Speaker.AGENT:
            qid, said_phase = turn.question_id, turn.phase
            if qid is None and (matched := banks.match_question(role, turn.text)):
                qid, said_phase = matched[0].id, matched[1]
            if qid is None and asks(turn.text) and said_phase is None:
                said_phase = phase_of(turn.text, i, len(turns))
            phase = said_phase or phase
            current = qid if qid is not None or asks(turn.text) else current
            if qid and qid not in asked and (q := banks.question(qid)) is not None:
                asked[qid] = AskedQuestionDetail(id=q.id, phase=phase, text=q.text, expected_points=q.expected_points,
                                                 rubric=q.rubric)
        out.append(turn.model_copy(update={"phase": turn.phase or phase,
                                           "question_id": turn.question_id or current}))
    return out, list(asked.values())


def _record(path: Path, raw: bytes, turns: list[Turn], banks: BankSet, started_at: datetime,
            given: dict[str, Any]) -> InterviewRecord:
    if not any(t.speaker is Speaker.CANDIDATE for t in turns):
        raise _problem(path, "no candidate turns to evaluate")
    role = given.get("role") if given.get("role") in banks.banks else detect_role(turns, banks)
    bank = banks.bank(role)
    turns, questions = link_questions(turns, bank.role, banks)
    return InterviewRecord(
        interview_id=given.get("interview_id") or f"file-{hashlib.sha256(raw).hexdigest()[:16]}",
        candidate_name=given.get("candidate_name") or detect_name(turns),
        role=bank.role,
        position=given.get("position") or bank.name,
        level=given.get("level"),
        started_at=started_at,
        duration_seconds=_duration(turns),
        end_reason=None,
        turns=turns,
        questions=questions,
        bank_version=banks.version(bank.role),
    )


def read_transcript(path: Path, banks: BankSet) -> InterviewRecord:
    """Read either shape; problems are reported as `file:line: message`."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _problem(path, f"cannot read file: {exc.strerror}") from exc
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise _problem(path, f"not JSON: {exc.msg} (column {exc.colno})", exc.lineno) from exc
    except UnicodeDecodeError as exc:
        raise _problem(path, "not UTF-8 text") from exc
    mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        turns, origin = _chat_turns(data["items"])
        started = datetime.fromtimestamp(origin, UTC) if origin is not None else mtime
        return _record(path, raw, turns, banks, started, {})
    if isinstance(data, dict) and "interview_id" in data and "started_at" in data:
        return _validated(path, _RECORD, data, "")
    if isinstance(data, dict) and isinstance(data.get("turns"), list):
        return _record(path, raw, _validated(path, _TURNS, data["turns"], "turns."), banks, mtime, data)
    if isinstance(data, list):
        return _record(path, raw, _validated(path, _TURNS, data, ""), banks, mtime, {})
    raise _problem(path, 'neither a LiveKit chat history ({"items": [...]}) nor a SIMA transcript ({"turns": [...]})')
