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
    >>> text.find(Quote(turn=1, quote="so I scaled Postgres twice")).quote
    'I scaled Postgres, twice'
    >>> text.find(Quote(turn=1, quote="I never scaled anything")) is None
    True
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

from pydantic import BaseModel

from engine.transcript import Speaker, Turn
from evaluation.features import content_words
from evaluation.judge import Quote

# Shorter quotes ("yes", "Kubernetes") occur in almost any transcript and prove nothing about an answer.
MIN_QUOTE_WORDS = 3
FUZZY_SHARE = 0.75  # a quote with a slip stands if this share of its words is a run the candidate said
CLAIM_SHARE = 0.5  # a restated claim stands for a sentence holding this share of its content words
_SENTENCE = re.compile(r"[^.!?]+[.!?]*")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")
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
        """The quote's span, preferring the turn it cites (a judge may cite the wrong turn of a true quote). A quote
        with a word or two changed (small models slip) stands for the longest run of it the candidate really said,
        if that run is most of it; the evidence is then that run, in the transcript's words."""
        needle = normalise(quote.quote)
        if len(needle.split()) < MIN_QUOTE_WORDS:
            return None
        ordered = sorted(self.turns, key=lambda t: t.turn.index != quote.turn)
        for t in ordered:
            at = f" {t.norm} ".find(f" {needle} ")
            if at >= 0:
                return self._evidence(t, at, at + len(needle))
        return self._closest(needle.split(), ordered)

    def _closest(self, needle: list[str], turns: list[_IndexedTurn]) -> Evidence | None:
        best: tuple[int, _IndexedTurn, int, int] | None = None
        for t in turns:
            hay = t.norm.split()
            m = difflib.SequenceMatcher(None, hay, needle, autojunk=False).find_longest_match(0, len(hay), 0,
                                                                                            len(needle))
            if m.size and (best is None or m.size > best[0]):
                best = (m.size, t, m.a, m.a + m.size)
        if best is None or best[0] < max(MIN_QUOTE_WORDS, FUZZY_SHARE * len(needle)):
            return None
        _, t, first, last = best
        starts = [0, *(i + 1 for i, c in enumerate(t.norm) if c == " ")]
        start = starts[first]
        end = starts[last] - 1 if last < len(starts) else len(t.norm)
        return self._evidence(t, start, end)

    def sentence(self, evidence: Evidence) -> str:
        """The whole sentence(s) of the candidate's turn that hold `evidence` (what a quote is about).

        >>> text = CandidateText([Turn(index=1, speaker=Speaker.CANDIDATE, text="I use Redis. It has TTLs. Yes.")])
        >>> text.sentence(text.find(Quote(turn=1, quote="it has TTLs")))
        'It has TTLs.'
        """
        turn = next(t.turn.text for t in self.turns if t.turn.index == evidence.turn)
        starts = [0, *(m.end() for m in _SENTENCE_END.finditer(turn))]
        start = max(s for s in starts if s <= evidence.start)
        ends = [m.end() for m in _SENTENCE_END.finditer(turn) if m.end() >= evidence.end] or [len(turn)]
        return turn[start:ends[0]].strip()

    def find_claim(self, quote: Quote) -> Evidence | None:
        """A claim the judge restated in other words: the candidate's sentence holding at least CLAIM_SHARE of the
        quote's content words (any order), as evidence. For misconceptions, which a judge tends to quote from the
        rubric's wording rather than the candidate's.

        >>> said = "Ok. POST is idempotent by design in HTTP."
        >>> text = CandidateText([Turn(index=1, speaker=Speaker.CANDIDATE, text=said)])
        >>> text.find_claim(Quote(quote="POST requests are idempotent by HTTP design")).quote
        'POST is idempotent by design in HTTP.'
        """
        found = self.find(quote)
        if found is not None:
            return found
        want = content_words(quote.quote)
        if len(want) < MIN_QUOTE_WORDS:
            return None
        best: tuple[float, Evidence] | None = None
        for t in self.turns:
            text = t.turn.text
            for m in _SENTENCE.finditer(text):
                share = len(want & content_words(m.group())) / len(want)
                start = m.start() + len(m.group()) - len(m.group().lstrip())
                if share >= CLAIM_SHARE and (best is None or share > best[0]):
                    best = (share, Evidence(turn=t.turn.index, quote=text[start:m.end()].strip(), start=start,
                                            end=start + len(text[start:m.end()].strip())))
        return best[1] if best else None

    @staticmethod
    def _evidence(t: _IndexedTurn, start: int, end: int) -> Evidence:
        s, e = t.where[start], t.where[end - 1] + 1
        return Evidence(turn=t.turn.index, quote=t.turn.text[s:e], start=s, end=e)

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
