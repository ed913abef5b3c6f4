"""Answer alignment: whether each candidate turn was filed under the question the candidate was answering.

The simulated candidate knows what it answers: the last bank question (or one of its follow-ups) in the words it
heard before it began its reply. :class:`AnswerLog` keeps that, turn by turn, as the turns arrive; :func:`alignment`
holds it against the question id the interview recorded for each candidate turn. A share below 1.0 means the
interview filed answers under other questions (it ran ahead of, or behind, the candidate).

Example::

    >>> log = AnswerLog(banks)                                      # doctest: +SKIP
    >>> log.heard("Let's move on. Tell me about a project you led.")  # doctest: +SKIP
    >>> log.replying(); log.turn_taken()                            # doctest: +SKIP
    >>> alignment(record.turns, log.expected).share                 # doctest: +SKIP
    1.0
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from engine.banks import BankSet
from engine.transcript import Speaker, Turn


class Misfiled(BaseModel):
    turn: int
    answering: str | None
    filed_under: str | None


class Alignment(BaseModel):
    aligned: int
    answers: int
    share: float | None = Field(description="aligned / answers; None without candidate turns")
    misfiled: list[Misfiled] = Field(default_factory=list)


class AnswerLog:
    """What the simulated candidate was answering, per candidate turn, in order."""

    def __init__(self, banks: BankSet):
        self._phrases = [(text, q.id) for bank in banks.banks.values() for _, q in bank.all_questions()
                         for text in (q.text, *q.follow_ups)]
        self._last_heard: str | None = None  # the question in the latest words heard
        self._answering: str | None = None  # the question of the reply being spoken
        self.expected: list[str | None] = []

    def heard(self, text: str) -> None:
        """The agent said `text`: the last bank question or follow-up in it is what a reply will answer (words
        with none, a goodbye or a notice, leave the question as it was)."""
        found = [(text.rfind(phrase), qid) for phrase, qid in self._phrases if phrase in text]
        if found:
            self._last_heard = max(found)[1]

    def replying(self) -> None:
        """The candidate starts a reply to what it has heard."""
        self._answering = self._last_heard

    def turn_taken(self) -> None:
        """The interview took a candidate turn (from the reply being spoken)."""
        self.expected.append(self._answering)


def alignment(turns: list[Turn], expected: list[str | None]) -> Alignment:
    """Hold the question ids recorded for the candidate turns against what the candidate was answering."""
    candidate = [t for t in turns if t.speaker is Speaker.CANDIDATE]
    pairs = list(zip(candidate, expected, strict=False))
    misfiled = [Misfiled(turn=t.index, answering=want, filed_under=t.question_id)
                for t, want in pairs if t.question_id != want]
    share = round((len(pairs) - len(misfiled)) / len(pairs), 4) if pairs else None
    return Alignment(aligned=len(pairs) - len(misfiled), answers=len(pairs), share=share, misfiled=misfiled)
