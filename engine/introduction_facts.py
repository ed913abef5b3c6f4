"""Who the candidate says they are, read from their introduction without an LLM (guided mode's profile step).

Small local models cannot be trusted with tool calls, so in guided mode the code itself pulls the name, the role and
the years of experience out of the answer to the greeting. The role is matched against the question banks; an
unmatched role is kept as the candidate's own words (the engine then falls back to the generic bank).

Example::

    >>> facts = parse_introduction("Hi, I'm Ada Lovelace, a backend developer with five years of experience.", banks)
    ... # doctest: +SKIP
    >>> facts.name, facts.role_text, facts.years                                         # doctest: +SKIP
    ('Ada Lovelace', 'Backend Developer', 5.0)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.banks import BankSet

_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
}
_NUMBER = r"(\d+(?:\.\d+)?|" + "|".join(sorted(_NUMBERS, key=len, reverse=True)) + r")"
_YEARS = re.compile(_NUMBER + r"\s*(?:\+|plus)?\s*(?:years?|yrs?)\b", re.IGNORECASE)
_MONTHS = re.compile(_NUMBER + r"\s*months?\b", re.IGNORECASE)
_NO_EXPERIENCE = re.compile(r"\b(?:fresher|fresh graduate|no (?:professional |work )?experience|just graduated|"
                            r"recent graduate|still studying|a student)\b", re.IGNORECASE)
# after "my name is" anything is a name; after "I'm" only a capitalised word is (speech-to-text capitalises names)
_SURE_NAME = re.compile(r"\b(?i:my name is|my name's|call me)\s+([A-Za-z][\w'-]+(?:\s+[A-Z][\w'-]+){0,2})")
_NAME = re.compile(r"\b(?i:i am|i'm|this is|it's)\s+([A-Z][\w'-]+(?:\s+[A-Z][\w'-]+){0,2})")
_NOT_NAMES = {"I", "A", "An", "The", "Applying", "Interested", "Here", "Currently", "Working", "Looking", "Happy"}
_ROLE = re.compile(r"\b(?:applying for|apply for|interviewing for|interested in|position of|role of|work as|"
                   r"working as|job as)\s+(?:a |an |the )?([a-z][a-z0-9 /+#.-]{2,60}?)"
                   r"(?:\s+(?:role|position|job|opening))?(?=[,.;!?]|$|\s+(?:and|with|at|for|since)\b)",
                   re.IGNORECASE)


@dataclass(frozen=True)
class IntroductionFacts:
    name: str | None = None
    role_text: str | None = None  # the bank's name for a matched role, else the candidate's own words
    years: float | None = None


def _number(word: str) -> float:
    return float(word) if word[0].isdigit() else float(_NUMBERS[word.lower()])


def parse_years(text: str) -> float | None:
    """Years of experience mentioned in `text`, or None.

    >>> parse_years("about three years now"), parse_years("6 months"), parse_years("I'm a fresher")
    (3.0, 0.5, 0.0)
    """
    if m := _YEARS.search(text):
        return _number(m.group(1))
    if m := _MONTHS.search(text):
        return round(_number(m.group(1)) / 12, 2)
    if _NO_EXPERIENCE.search(text):
        return 0.0
    return None


def parse_name(text: str) -> str | None:
    """The name the candidate gives, or None.

    >>> parse_name("Hello, my name is Grace Hopper and I write compilers"), parse_name("I'm a developer")
    ('Grace Hopper', None)
    """
    if m := _SURE_NAME.search(text):
        return " ".join(w[0].upper() + w[1:] for w in m.group(1).split())
    for m in _NAME.finditer(text):
        words = m.group(1).split()
        if words[0] not in _NOT_NAMES:
            return " ".join(words)
    return None


def parse_introduction(text: str, banks: BankSet) -> IntroductionFacts:
    role = banks.match_role(text)
    role_text = banks.bank(role).name if role else None
    if role_text is None and (m := _ROLE.search(text)):
        role_text = m.group(1).strip()
    return IntroductionFacts(name=parse_name(text), role_text=role_text, years=parse_years(text))
