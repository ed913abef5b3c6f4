"""Question banks: the YAML schema authors write, and loading a whole folder of them all-or-nothing.

One file per role. Questions valid at every level sit under `common`, the rest under `levels.<level>`; both map a
phase to a list of questions::

    role: backend
    name: Backend Developer
    aliases: [backend, back-end, server-side]
    common:
      behavioral:
        - id: be-beh-conflict
          text: Tell me about a disagreement with a teammate over a technical decision.
          follow_ups: [What would you do differently now?]
          expected_points: [names the disagreement, shows listening, describes the outcome]
          rubric: {1: blames others, 5: resolves it but vaguely, 10: concrete, reflective, shared outcome}
          difficulty: medium
          minutes: 3
    levels:
      junior:
        technical: [...]

Example::

    >>> banks = load_banks(Path("question_banks"))            # doctest: +SKIP
    >>> [q.id for q in banks.questions("backend", Level.MID, Phase.TECHNICAL)][:2]  # doctest: +SKIP
    ['be-mid-tech-1', 'be-mid-tech-2']
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from engine.phases import Level, Phase
from engine.settings import Strict
from engine.yamlsrc import (
    LocatedDoc,
    SourceError,
    SourceProblem,
    load_located_file,
    validate_located,
)

GENERIC_ROLE = "generic"
RUBRIC_ANCHORS = (1, 5, 10)
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


class Question(Strict):
    id: str
    text: str = Field(min_length=1)
    follow_ups: list[str] = Field(default_factory=list)
    expected_points: list[str] = Field(default_factory=list)
    rubric: dict[int, str] | None = Field(default=None, description="what a 1, 5 and 10 answer look like")
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    minutes: float = Field(default=2, gt=0, le=15, description="estimated answer time")
    misconceptions: list[str] = Field(default_factory=list, description="wrong claims a weak answer states (for "
                                                                        "the judge; every technical question)")

    @field_validator("expected_points", "misconceptions", "follow_ups")
    @classmethod
    def _no_blank_items(cls, v: list[str]) -> list[str]:
        if any(not item.strip() for item in v):
            raise ValueError("items must not be empty")
        return [item.strip() for item in v]

    @field_validator("id")
    @classmethod
    def _id_shape(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError("id must be lowercase letters, digits, '-', '_' or '.'")
        return v

    @field_validator("text")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("text must not be empty")
        return v.strip()

    @field_validator("rubric")
    @classmethod
    def _anchors(cls, v: dict[int, str] | None) -> dict[int, str] | None:
        if v is not None and sorted(v) != list(RUBRIC_ANCHORS):
            raise ValueError("rubric needs exactly the anchors 1, 5 and 10")
        return v


PhaseQuestions = dict[Phase, list[Question]]


class PhaseRubric(Strict):
    """What any good answer in a phase shows: the judge's rubric for questions that are not from a bank."""

    expected_points: list[str] = Field(min_length=1)
    rubric: dict[int, str]

    @field_validator("rubric")
    @classmethod
    def _anchors(cls, v: dict[int, str]) -> dict[int, str]:
        if sorted(v) != list(RUBRIC_ANCHORS):
            raise ValueError("rubric needs exactly the anchors 1, 5 and 10")
        return v


class RoleBank(Strict):
    role: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    version: int = Field(default=1, ge=1)
    common: PhaseQuestions = Field(default_factory=dict)
    levels: dict[Level, PhaseQuestions] = Field(default_factory=dict)
    phase_rubrics: dict[Phase, PhaseRubric] = Field(default_factory=dict, description="generic rubric per phase "
                                                    "for questions not from a bank (the generic bank has all)")

    def questions(self, level: Level, phase: Phase) -> list[Question]:
        return [*self.common.get(phase, []), *self.levels.get(level, {}).get(phase, [])]

    def all_questions(self) -> Iterable[tuple[tuple[str | int, ...], Question]]:
        """Every question with its location in the file (for error lines)."""
        for phase, qs in self.common.items():
            for i, q in enumerate(qs):
                yield ("common", phase.value, i), q
        for level, phases in self.levels.items():
            for phase, qs in phases.items():
                for i, q in enumerate(qs):
                    yield ("levels", level.value, phase.value, i), q


@dataclass
class BankSet:
    """All role banks of a folder, keyed by role; built only when every file is valid."""

    banks: dict[str, RoleBank]
    docs: dict[str, LocatedDoc] = field(default_factory=dict)  # where each role's questions are, for lint lines
    fingerprint: str = ""

    def bank(self, role: str) -> RoleBank:
        return self.banks.get(role) or self.banks[GENERIC_ROLE]

    def questions(self, role: str, level: Level, phase: Phase) -> list[Question]:
        """The role's own questions first, then the generic bank's, so shared phases need writing once."""
        own = self.bank(role).questions(level, phase)
        if self.bank(role).role == GENERIC_ROLE:
            return own
        return [*own, *self.banks[GENERIC_ROLE].questions(level, phase)]

    def __post_init__(self) -> None:
        self._by_id = {q.id: q for bank in self.banks.values() for _, q in bank.all_questions()}

    def question(self, qid: str) -> Question | None:
        return self._by_id.get(qid)

    def phase_rubric(self, role: str, phase: Phase) -> PhaseRubric | None:
        """The role's own generic rubric for a phase, else the generic bank's."""
        return self.bank(role).phase_rubrics.get(phase) or self.banks[GENERIC_ROLE].phase_rubrics.get(phase)

    def match_question(self, role: str, text: str) -> tuple[Question, Phase] | None:
        """The role's (or the generic bank's) question that `text` asks, by its words: at least MATCH_SHARE of the
        question's (or one of its follow-ups') content words, and at least MATCH_MIN_WORDS, occur in `text`; the best
        wins.

        >>> q = Question(id="q1", text="How would you design a rate limiter for a public API?")
        >>> banks = BankSet({"generic": RoleBank(role="generic", name="Any", common={Phase.TECHNICAL: [q]})})
        >>> banks.match_question("backend", "Thanks. So, how would you design a rate limiter for a public API?")
        (Question(id='q1', ...), <Phase.TECHNICAL: 'technical'>)
        >>> banks.match_question("backend", "What is your favourite colour?") is None
        True
        """
        said = set(_words(text))
        best: tuple[float, Question, Phase] | None = None
        for bank in {self.bank(role).role: self.bank(role), GENERIC_ROLE: self.banks[GENERIC_ROLE]}.values():
            for loc, q in bank.all_questions():
                phase = Phase(str(loc[1] if loc[0] == "common" else loc[2]))
                for candidate in (q.text, *q.follow_ups):
                    words = set(_words(candidate))
                    if len(words) < MATCH_MIN_WORDS:  # "Who do you tell?" would match any sentence with "tell"
                        continue
                    share = len(words & said) / len(words)
                    if share >= MATCH_SHARE and (best is None or share > best[0]):
                        best = (share, q, phase)
        return (best[1], best[2]) if best else None

    def version(self, role: str) -> str:
        """Bank version for reports: the author's number plus a content hash of the whole set."""
        return f"{self.bank(role).role}@v{self.bank(role).version}+{self.fingerprint[:12]}"

    def match_role(self, text: str) -> str | None:
        """Role whose name or alias occurs in `text` as whole words; the longest match wins.

        >>> BankSet({"backend": RoleBank(role="backend", name="Backend Developer", aliases=["api developer"])}
        ...         ).match_role("I'm an API developer at a bank")
        'backend'
        """
        norm = _normalise(text)
        best: tuple[int, str] | None = None
        for bank in self.banks.values():
            if bank.role == GENERIC_ROLE:
                continue
            for alias in (bank.role, bank.name, *bank.aliases):
                a = _normalise(alias)
                if a and re.search(rf"(?<!\w){re.escape(a)}(?!\w)", norm) and (best is None or len(a) > best[0]):
                    best = (len(a), bank.role)
        return best[1] if best else None


# A question is "asked" when this share of its content words is said (the agent may rephrase a little).
MATCH_SHARE = 0.75
MATCH_MIN_WORDS = 3
_STOPWORDS = frozenset(re.findall(r"\w+", """a an the and or of to in on for with at by from is are was were be been
    it its this that you your we our i me my do does did how what which who when where why would could can about as so
    if then there their them they have has had"""))


def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9+#]+", text.lower()) if w not in _STOPWORDS]


def _normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w+#./-]+", " ", text.lower()).split())


def _bank_files(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        out.extend(sorted([*p.glob("*.yaml"), *p.glob("*.yml")]) if p.is_dir() else [p])
    return out


def load_banks(*paths: Path) -> BankSet:
    """Load and cross-check every bank file under `paths`; raise :class:`SourceError` with all problems."""
    files = _bank_files(paths)
    problems: list[SourceProblem] = []
    if not files:
        raise SourceError([SourceProblem(", ".join(map(str, paths)), 1, "", "no question bank files found")])
    banks: dict[str, RoleBank] = {}
    docs: dict[str, LocatedDoc] = {}
    seen_ids: dict[str, str] = {}
    seen_aliases: dict[str, str] = {}
    digest = hashlib.sha256()
    for path in files:
        try:
            doc = load_located_file(path)
            bank = validate_located(RoleBank, doc)
        except SourceError as exc:
            problems.extend(exc.problems)
            continue
        digest.update(path.read_bytes())
        problems.extend(_cross_check(doc, bank, banks, seen_ids, seen_aliases))
        banks[bank.role] = bank
        docs[bank.role] = doc
    if not problems and GENERIC_ROLE not in banks:
        message = f"no '{GENERIC_ROLE}' bank: roles nobody wrote need it"
        problems.append(SourceProblem(str(files[0].parent), 1, "", message))
    if problems:
        raise SourceError(problems)
    return BankSet(banks, docs, digest.hexdigest())


def _cross_check(
    doc: LocatedDoc,
    bank: RoleBank,
    banks: dict[str, RoleBank],
    seen_ids: dict[str, str],
    seen_aliases: dict[str, str],
) -> list[SourceProblem]:
    out = []
    if bank.role in banks:
        out.append(SourceProblem(doc.file, doc.line_of(("role",)), "role", f"role '{bank.role}' is defined twice"))
    for i, alias in enumerate(bank.aliases):
        key = _normalise(alias)
        other = seen_aliases.get(key)
        if other and other != bank.role:
            out.append(SourceProblem(doc.file, doc.line_of(("aliases", i)), f"aliases[{i}]",
                                     f"alias '{alias}' already names role '{other}'"))
        seen_aliases[key] = bank.role
    for loc, q in bank.all_questions():
        if q.id in seen_ids:
            out.append(SourceProblem(doc.file, doc.line_of((*loc, "id")), "id",
                                     f"duplicate question id '{q.id}' (first in {seen_ids[q.id]})"))
        else:
            seen_ids[q.id] = f"{doc.file}:{doc.line_of((*loc, 'id'))}"
    return out
