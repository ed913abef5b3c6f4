"""Evidence verification: a judge's quote counts only if the candidate really said it.

Quotes and turns are compared after normalising case, punctuation and whitespace, on word boundaries. A verified quote
is replaced by the transcript's own words (so reports never show the judge's paraphrase) and keeps its character span
for highlighting. Unverified quotes are dropped and counted.

Example::

    >>> normalise("  Well, I DON'T  know—really! ")
    'well i dont know really'
    >>> text = CandidateText([Turn(index=1, speaker=Speaker.CANDIDATE, text="I scaled Postgres, twice.")])
    >>> text.find(Quote(turn=1, quote="scaled postgres twice")).quote
    'scaled Postgres, twice'
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from pydantic import BaseModel

from engine.transcript import Speaker, Turn
from evaluation.judge import JudgeOutput, Quote
from evaluation.settings import Dimension

# Shorter quotes ("yes", "Kubernetes") occur in almost any transcript and prove nothing about an answer.
MIN_QUOTE_WORDS = 3
_APOSTROPHES = frozenset("'’‘`´")


def _normalise_with_map(text: str) -> tuple[str, list[int]]:
    """Normalised text and, for each of its characters, the index of the original character it came from."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKC", ch).lower():
            if c in _APOSTROPHES:
                continue  # "don't" and "dont" are the same words to a transcriber
            if c.isalnum():
                out.append(c)
                where.append(i)
            elif out and out[-1] != " ":
                out.append(" ")
                where.append(i)
    if out and out[-1] == " ":
        out.pop()
        where.pop()
    return "".join(out), where


def normalise(text: str) -> str:
    return _normalise_with_map(text)[0]


class Evidence(BaseModel):
    """A verified quote: the candidate's own words in turn `turn`, at `start:end` of that turn's text."""

    turn: int
    quote: str
    start: int
    end: int

    @property
    def key(self) -> tuple[int, int, int]:
        """Where the words are: two quotes with one key are one piece of evidence."""
        return self.turn, self.start, self.end


@dataclass
class _IndexedTurn:
    turn: Turn
    norm: str
    where: list[int]


class CandidateText:
    """The candidate's turns, normalised once, searchable for quotes."""

    def __init__(self, turns: list[Turn]):
        self.turns = [_IndexedTurn(t, *_normalise_with_map(t.text)) for t in turns if t.speaker is Speaker.CANDIDATE]

    def find(self, quote: Quote) -> Evidence | None:
        """The quote's span, preferring the turn it cites (a judge may cite the wrong turn of a true quote)."""
        needle = normalise(quote.quote)
        if len(needle.split()) < MIN_QUOTE_WORDS:
            return None
        ordered = sorted(self.turns, key=lambda t: t.turn.index != quote.turn)
        for t in ordered:
            at = f" {t.norm} ".find(f" {needle} ")
            if at >= 0:
                start, end = t.where[at], t.where[at + len(needle) - 1] + 1
                return Evidence(turn=t.turn.index, quote=t.turn.text[start:end], start=start, end=end)
        return None

    def verify(self, quotes: list[Quote]) -> tuple[list[Evidence], int]:
        """Verified evidence (duplicates merged) and how many quotes were dropped."""
        found: list[Evidence] = []
        dropped = 0
        for q in quotes:
            ev = self.find(q)
            if ev is None:
                dropped += 1
            elif all(e.key != ev.key for e in found):
                found.append(ev)
        return found, dropped


@dataclass
class VerifiedRedFlag:
    description: str
    evidence: list[Evidence]  # verified quotes only; empty if the judge gave none or only made-up ones


@dataclass
class VerifiedSample:
    """One judge reply with its quotes checked against the transcript."""

    output: JudgeOutput
    evidence: dict[Dimension, list[Evidence]] = field(default_factory=dict)
    dropped: dict[Dimension, int] = field(default_factory=dict)
    red_flags: list[VerifiedRedFlag] = field(default_factory=list)
    dropped_red_flag_quotes: int = 0

    @property
    def verified_count(self) -> int:
        return sum(len(v) for v in self.evidence.values()) + sum(len(f.evidence) for f in self.red_flags)

    @property
    def dropped_count(self) -> int:
        return sum(self.dropped.values()) + self.dropped_red_flag_quotes


def verify_sample(output: JudgeOutput, text: CandidateText) -> VerifiedSample:
    """Check every quote of one reply. Red flags are all kept with their verified quotes; whether one without any
    may cap a decision is the aggregation's call."""
    sample = VerifiedSample(output)
    for d in Dimension:
        sample.evidence[d], sample.dropped[d] = text.verify(output.dimension(d).evidence)
    for flag in output.red_flags:
        evidence, dropped = text.verify(flag.evidence)
        sample.dropped_red_flag_quotes += dropped
        sample.red_flags.append(VerifiedRedFlag(flag.description, evidence))
    return sample
