"""The six phases of a SIMA interview, in the only order they can happen.

Example::

    >>> Phase.TECHNICAL.next
    <Phase.BEHAVIORAL: 'behavioral'>
"""

from __future__ import annotations

from enum import StrEnum


class Phase(StrEnum):
    INTRODUCTION = "introduction"
    EXPERIENCE = "experience"
    TECHNICAL = "technical"
    BEHAVIORAL = "behavioral"
    SCENARIO = "scenario"
    WRAP_UP = "wrap_up"

    @property
    def next(self) -> Phase | None:
        i = PHASE_ORDER.index(self)
        return PHASE_ORDER[i + 1] if i + 1 < len(PHASE_ORDER) else None

    @property
    def title(self) -> str:
        return self.value.replace("_", "-").capitalize()


PHASE_ORDER: tuple[Phase, ...] = tuple(Phase)
ENDED = "ended"


class Level(StrEnum):
    FRESHER = "fresher"
    JUNIOR = "junior"
    MID = "mid"
    SENIOR = "senior"

    @classmethod
    def from_years(cls, years: float) -> Level:
        """Seniority from years of professional experience.

        >>> Level.from_years(0), Level.from_years(3)
        (<Level.FRESHER: 'fresher'>, <Level.MID: 'mid'>)
        """
        if years < 0.5:
            return cls.FRESHER
        if years < 2:
            return cls.JUNIOR
        if years < 5:
            return cls.MID
        return cls.SENIOR
