"""Persona files: who the simulated candidate is and how they answer.

Example (personas/priya-backend-strong.yaml)::

    name: Priya Sharma
    role_text: backend developer
    level: mid
    years: 4
    strength: strong
    style: structured and concrete
    background: Four years building payment APIs...
    answer_words: [35, 70]
    scripted_answers: [...]     # optional: said in order, before any generated reply
    expect: [answer, injection, ...]  # optional: the kind of each scripted answer (engine.answers.AnswerKind),
                                      # which the conversation benchmark holds the interviewer to
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from engine.answers import AnswerKind
from engine.phases import Level
from engine.settings import Strict
from engine.yamlsrc import SourceError, SourceProblem, load_located_file, validate_located


class Persona(Strict):
    name: str = Field(min_length=1, max_length=80)
    role_text: str = Field(min_length=1, description="how the candidate names the role they apply for")
    level: Level
    years: float = Field(ge=0, le=50)
    strength: Literal["strong", "medium", "weak"]
    style: str = Field(min_length=1)
    background: str = Field(min_length=1)
    answer_words: tuple[int, int] = (30, 60)
    scripted_answers: list[str] = Field(default_factory=list)
    expect: list[AnswerKind] = Field(default_factory=list, description="the kind of each scripted answer")

    @field_validator("answer_words")
    @classmethod
    def _range(cls, v: tuple[int, int]) -> tuple[int, int]:
        if not 1 <= v[0] <= v[1] <= 200:
            raise ValueError("answer_words must be [min, max] with 1 <= min <= max <= 200")
        return v

    @model_validator(mode="after")
    def _expectations(self) -> Persona:
        if self.expect and len(self.expect) != len(self.scripted_answers):
            raise ValueError(f"expect lists {len(self.expect)} kinds for {len(self.scripted_answers)} scripted answers:"
                             " give one per answer")
        return self


def load_persona(ref: str, folder: Path) -> Persona:
    """A persona by file path or by name in `folder` (e.g. `priya-backend-strong`)."""
    path = Path(ref)
    if not path.exists():
        path = folder / f"{ref}.yaml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in folder.glob("*.yaml")))
        raise SourceError([SourceProblem(ref, 0, "", f"no such persona; known: {known}")])
    return validate_located(Persona, load_located_file(path))
