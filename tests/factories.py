"""Synthetic question banks, so engine rules are tested independently of the shipped content."""

from __future__ import annotations

from engine.banks import GENERIC_ROLE, BankSet, Question, RoleBank
from engine.phases import PHASE_ORDER, Level, Phase


def _questions(prefix: str, phase: Phase, n: int, minutes: float) -> list[Question]:
    return [
        Question(
            id=f"{prefix}-{phase.value}-{i}",
            text=f"{prefix} {phase.value} question number {i}, please explain your reasoning in detail.",
            follow_ups=[f"{prefix} {phase.value} {i} follow-up one?", f"{prefix} {phase.value} {i} follow-up two?"],
            expected_points=["point a", "point b"],
            rubric={1: "poor", 5: "fair", 10: "excellent"},
            minutes=minutes,
        )
        for i in range(n)
    ]


def make_banks(per_phase: int = 8, minutes: float = 2.0) -> BankSet:
    generic = RoleBank(
        role=GENERIC_ROLE,
        name="General",
        common={p: _questions("gen", p, per_phase, minutes) for p in PHASE_ORDER},
    )
    backend = RoleBank(
        role="backend",
        name="Backend Developer",
        aliases=["backend developer", "server-side"],
        levels={
            lvl: {p: _questions(f"be-{lvl.value}", p, per_phase, minutes)
                  for p in (Phase.EXPERIENCE, Phase.TECHNICAL, Phase.SCENARIO)}
            for lvl in Level
        },
    )
    return BankSet({GENERIC_ROLE: generic, "backend": backend}, fingerprint="0" * 64)
