"""What follows a candidate's turn: one table of rules, from the turn's kind and what already happened on the question.

:func:`decide` is pure; :meth:`engine.interview.InterviewEngine.take_answer` applies its :class:`Move` (records
warnings and notes, counts follow-ups, picks the next question) and the pipeline only says it.

* a request to repeat → the question again; silence → a gentle prompt with the question again, once;
* a question back → "your questions come at the end" and the question again, once (in the wrap-up questions are
  the point: the hiring team takes them);
* a non-answer → a simpler angle once, never a follow-up that presumes an answer; a second one → move on;
* off-topic → a short redirect to the question, once; another language → a request for English, once;
* an attempt to steer the interviewer → a one-sentence decline, a warning and a red-flag note with the quote;
  abuse → a calm warning; at the warning limit the interview ends politely (reason `misconduct`);
* an answer with a claim that sounds inflated → a probing follow-up and a note for the judge (once per question);
* an answer to the previous question (the candidate was silent until the interview moved on), arriving before any
  answer to the current one → filed under the question it answers, then the current question again;
* a partial answer → the bank follow-up aimed at the expected points it missed, within the cap (under free
  phrasing, where none is aimed at them, one the interviewer writes); a complete answer → the next question.

Example::

    >>> decide(AnswerKind.NON_ANSWER, phase=Phase.TECHNICAL, seen=[])
    <Move.SIMPLER: 'simpler_angle'>
    >>> decide(AnswerKind.NON_ANSWER, phase=Phase.TECHNICAL, seen=[AnswerKind.NON_ANSWER])
    <Move.NEXT: 'next_question'>
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from engine.answers import AnswerKind
from engine.phases import Phase

MISCONDUCT = "misconduct"  # the end reason once the warning limit is reached


class Move(StrEnum):
    NEXT = "next_question"
    FOLLOW_UP = "follow_up"
    PROBE_CLAIM = "probe_claim"
    SIMPLER = "simpler_angle"
    REDIRECT = "redirect"
    REPEAT = "repeat"
    PROMPT = "prompt_silence"
    ANSWER_LATER = "answer_later"
    HIRING_TEAM = "hiring_team"
    ASK_ENGLISH = "ask_english"
    DECLINE = "decline"
    WARN = "warn"
    LATE = "late_answer"  # an answer to the question before, arriving after the interview moved on


# once per question: the second time the interview moves on
_ONCE = {AnswerKind.SILENCE: Move.PROMPT, AnswerKind.NON_ANSWER: Move.SIMPLER, AnswerKind.OFF_TOPIC: Move.REDIRECT,
         AnswerKind.OTHER_LANGUAGE: Move.ASK_ENGLISH, AnswerKind.QUESTION_BACK: Move.ANSWER_LATER}
_OPEN_PHASES = (Phase.INTRODUCTION, Phase.WRAP_UP)
_ANSWERS = (AnswerKind.ANSWER, AnswerKind.PARTIAL)  # no single right answer to hold the candidate to


def decide(
    kind: AnswerKind,
    *,
    phase: Phase | None,
    seen: Sequence[AnswerKind],
    follow_up: int | None = None,
    can_follow_up: bool = False,
    claim: bool = False,
    probed: bool = False,
    asks: bool = False,
    own: bool = False,
) -> Move:
    """The move for a turn of `kind`; `seen` are the kinds of the earlier turns on the same question.

    `follow_up` is the bank follow-up aimed at the missed points (None if none is), `can_follow_up` whether the cap
    and the phase's time allow one, `claim` whether the turn sounds inflated, `probed` whether a claim on this
    question was already probed, `asks` whether the turn has a question in it, `own` whether the interviewer may
    write a follow-up of its own where no bank follow-up is aimed at what the answer missed (free phrasing).

    >>> decide(AnswerKind.PARTIAL, phase=Phase.TECHNICAL, seen=[], follow_up=1, can_follow_up=True)
    <Move.FOLLOW_UP: 'follow_up'>
    >>> decide(AnswerKind.ANSWER, phase=Phase.TECHNICAL, seen=[], follow_up=1, can_follow_up=True)
    <Move.NEXT: 'next_question'>
    >>> decide(AnswerKind.QUESTION_BACK, phase=Phase.WRAP_UP, seen=[])
    <Move.HIRING_TEAM: 'hiring_team'>
    """
    if kind is AnswerKind.INJECTION:
        return Move.DECLINE
    if kind is AnswerKind.ABUSIVE:
        return Move.WARN
    if kind is AnswerKind.REPEAT_REQUEST:
        return Move.REPEAT
    if phase is Phase.WRAP_UP and (kind is AnswerKind.QUESTION_BACK or (asks and kind in _ANSWERS)):
        return Move.HIRING_TEAM  # a small model must not invent facts about the job
    if kind is AnswerKind.QUESTION_BACK and phase is Phase.INTRODUCTION:
        return Move.NEXT  # an introduction that ends on a question still introduced the candidate
    if kind is AnswerKind.NON_ANSWER and phase in _OPEN_PHASES:
        return Move.NEXT
    if kind in _ONCE:
        return _ONCE[kind] if kind not in seen else Move.NEXT
    if claim and not probed and can_follow_up:
        return Move.PROBE_CLAIM
    if kind is AnswerKind.PARTIAL and can_follow_up and (follow_up is not None or own):
        return Move.FOLLOW_UP
    return Move.NEXT
