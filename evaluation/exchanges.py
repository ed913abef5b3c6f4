"""An interview cut into question exchanges — a question, its follow-ups and the candidate's answers — each with
the rubric it is scored against.

Turns are grouped by the `question_id` the engine recorded on them; an interviewer turn without one that asks
something ("?", "tell me about ...") opens an exchange of its own unless it follows up the current question of the
same phase. The rubric is, in order: the bank question the record names (misconceptions and difficulty from the
banks when they are at hand), a bank question whose words the interviewer said, or the generic rubric of the
exchange's phase.

Example::

    >>> [(e.question_id, e.phase.value, len(e.answers)) for e in split(record, banks)]   # doctest: +SKIP
    [('gen-intro-01', 'introduction', 1), ('be-mid-tech-01', 'technical', 2)]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine.banks import BankSet
from engine.phases import Phase
from engine.transcript import InterviewRecord, Speaker, Turn
from evaluation.features import without_injections

# Interviewers ask in the imperative too ("Tell me about a time ...").
_IMPERATIVE = re.compile(r"\b(?:tell me|describe|walk me through|talk me through|explain|give me an example)\b",
                         re.IGNORECASE)


def asks(text: str) -> bool:
    """Whether an interviewer's turn asks something.

    >>> asks("Thanks! Tell me about a time you disagreed with a teammate."), asks("Thank you, that's all.")
    (True, False)
    """
    return "?" in text or bool(_IMPERATIVE.search(text))


@dataclass(frozen=True)
class Rubric:
    source: str  # "bank" | "matched" | "phase" | "none"
    expected_points: list[str]
    anchors: dict[int, str]
    misconceptions: list[str]
    difficulty: str


@dataclass
class Exchange:
    number: int
    phase: Phase
    question_id: str | None
    asked: list[Turn] = field(default_factory=list)  # the interviewer's turns: question, follow-ups
    answers: list[Turn] = field(default_factory=list)  # the candidate's turns
    rubric: Rubric = field(default_factory=lambda: Rubric("none", [], {}, [], "medium"))
    written: str | None = None  # the question as its bank writes it, where it is known (what a report shows)

    @property
    def question(self) -> str:
        """The interviewer's first turn that asks something (else the first turn)."""
        asking = [t.text for t in self.asked if asks(t.text)]
        return (asking or [t.text for t in self.asked] or [""])[0]

    def answer_text(self) -> str:
        """The candidate's words as the judge sees them: instructions to the evaluator cut out."""
        return " ".join(without_injections(t.text) for t in self.answers).strip()


def _starts_new(turn: Turn, current: Exchange | None) -> bool:
    if current is None:
        return True
    if turn.question_id:
        return turn.question_id != current.question_id
    phase_changed = turn.phase is not None and turn.phase != current.phase
    # an unrecorded question after an unrecorded exchange that was answered is a new question, not a follow-up
    return asks(turn.text) and (phase_changed or (current.question_id is None and bool(current.answers)))


def split(record: InterviewRecord, banks: BankSet | None = None) -> list[Exchange]:
    """The record's exchanges, in order, each with its rubric."""
    out: list[Exchange] = []
    current: Exchange | None = None
    for turn in record.turns:
        if turn.speaker is Speaker.AGENT:
            if _starts_new(turn, current):
                phase = turn.phase or (current.phase if current else Phase.INTRODUCTION)
                current = Exchange(len(out) + 1, phase, turn.question_id)
                out.append(current)
            assert current is not None
            current.asked.append(turn)
        else:
            if current is None:
                current = Exchange(1, turn.phase or Phase.INTRODUCTION, None)
                out.append(current)
            current.answers.append(turn)
    for exchange in out:
        exchange.rubric = _rubric(record, exchange, banks)
    return out


def _rubric(record: InterviewRecord, exchange: Exchange, banks: BankSet | None) -> Rubric:
    detail = next((q for q in record.questions if q.id == exchange.question_id), None)
    bank_q = banks.question(exchange.question_id) if banks and exchange.question_id else None
    if detail is not None or bank_q is not None:
        exchange.written = detail.text if detail else bank_q.text  # type: ignore[union-attr]
        points = detail.expected_points if detail else bank_q.expected_points  # type: ignore[union-attr]
        anchors = (detail.rubric if detail else None) or (bank_q.rubric if bank_q else None) or {}
        return Rubric("bank", points, anchors, bank_q.misconceptions if bank_q else [],
                      bank_q.difficulty if bank_q else "medium")
    if banks is not None:
        matched = banks.match_question(record.role, exchange.question)
        if matched is not None:
            q, phase = matched
            exchange.question_id, exchange.phase, exchange.written = q.id, phase, q.text
            return Rubric("matched", q.expected_points, q.rubric or {}, q.misconceptions, q.difficulty)
        generic = banks.phase_rubric(record.role, exchange.phase)
        if generic is not None:
            return Rubric("phase", generic.expected_points, generic.rubric, [], "medium")
    return Rubric("none", [], {}, [], "medium")

