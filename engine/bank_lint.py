"""Bank lint: content that is valid but will hurt an interview or its assessment — coverage gaps, missing rubrics,
technical questions without misconceptions, phases without a generic rubric, time vs budget.

Example::

    >>> for f in lint_banks(banks, InterviewSettings()): print(f)   # doctest: +SKIP
    question_banks/mobile.yaml:40: senior.technical: 4 questions, budget needs 6
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.banks import GENERIC_ROLE, BankSet
from engine.budget import planned_seconds
from engine.phases import PHASE_ORDER, Level, Phase
from engine.settings import InterviewSettings


@dataclass(frozen=True)
class LintFinding:
    file: str
    line: int
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.where}: {self.message}"


def lint_banks(banks: BankSet, settings: InterviewSettings) -> list[LintFinding]:
    out: list[LintFinding] = []
    budgets = planned_seconds(settings)
    for role, bank in sorted(banks.banks.items()):
        doc = banks.docs.get(role)
        file = doc.file if doc else role
        for loc, q in bank.all_questions():
            line = doc.line_of(loc) if doc else 0
            if q.rubric is None:
                out.append(LintFinding(file, line, q.id, "no rubric anchors (1, 5, 10) for the judge"))
            if not q.expected_points:
                out.append(LintFinding(file, line, q.id, "no expected_points for the judge"))
            phase = loc[1] if loc[0] == "common" else loc[2]
            if phase == Phase.TECHNICAL.value and not q.misconceptions:
                out.append(LintFinding(file, line, q.id, "no misconceptions for the judge (technical question)"))
        if role == GENERIC_ROLE:
            for phase in PHASE_ORDER:
                if phase not in bank.phase_rubrics:
                    where = doc.line_of(("phase_rubrics",)) if doc else 0
                    out.append(LintFinding(file, where, f"phase_rubrics.{phase.value}",
                                           "no generic rubric for questions that are not from a bank"))
        for level in Level:
            for phase in PHASE_ORDER:
                limits = settings.phases[phase]
                qs = banks.questions(role, level, phase)
                line = doc.line_of(("levels", level.value, phase.value)) if doc else 0
                where = f"{role}.{level.value}.{phase.value}"
                if len(qs) < limits.max_questions:
                    source = "" if role == GENERIC_ROLE else " (with the generic bank)"
                    out.append(LintFinding(file, line, where,
                                           f"{len(qs)} questions{source}, max_questions is {limits.max_questions}"))
                minutes = sum(q.minutes for q in qs[: limits.max_questions])
                if qs and minutes * 60 < budgets[phase] * 0.75:
                    budget = budgets[phase] / 60
                    out.append(LintFinding(file, line, where,
                                           f"questions estimate {minutes:g} min for a {budget:g} min budget"))
    return out
