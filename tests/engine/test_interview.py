"""Engine rules on a fake clock: phase order, budgets, timers, question choice, caps, profile, warnings."""

from __future__ import annotations

import asyncio

import pytest

from engine.clock import FakeClock
from engine.events import Event, InterviewEnded, PhaseEntered, PhaseTimeout, TimeWarning
from engine.interview import InterviewEngine
from engine.phases import PHASE_ORDER, Level, Phase
from engine.settings import InterviewSettings
from engine.snapshot import Profile


async def started(settings: InterviewSettings, banks, **kw) -> tuple[InterviewEngine, FakeClock, list[Event]]:  # type: ignore[no-untyped-def]
    clock = FakeClock(1000.0)  # a non-zero origin: the engine must only use differences
    engine = InterviewEngine(settings, banks, clock, **kw)
    events: list[Event] = []
    engine.subscribe(events.append)
    await engine.start()
    return engine, clock, events


async def test_start_enters_introduction_with_planned_budget(settings, banks):
    engine, _, events = await started(settings, banks)
    assert engine.phase is Phase.INTRODUCTION
    assert events == [PhaseEntered(0.0, Phase.INTRODUCTION, None, 120.0, "start")]


async def test_warning_timeout_and_forced_advance_fire_at_their_deadlines(settings, banks):
    engine, clock, events = await started(settings, banks)
    clock.advance(89.0)
    await engine.poll()
    assert not any(isinstance(e, TimeWarning) for e in events)
    clock.advance(1.0)
    await engine.poll()
    assert events[-1] == TimeWarning(90.0, Phase.INTRODUCTION, 30.0)
    clock.advance(30.0)
    await engine.poll()
    assert events[-1] == PhaseTimeout(120.0, Phase.INTRODUCTION, 45.0)
    assert engine.phase is Phase.INTRODUCTION  # the candidate may finish their answer
    clock.advance(45.0)
    await engine.poll()
    assert engine.phase is Phase.EXPERIENCE
    entered = events[-1]
    assert isinstance(entered, PhaseEntered) and entered.at == 165.0 and entered.reason == "timeout"


async def test_a_jump_past_several_deadlines_replays_them_in_order_at_their_own_times(settings, banks):
    engine, clock, events = await started(settings, banks)
    clock.advance(10_000)
    await engine.poll()
    assert engine.ended
    ended = events[-1]
    assert isinstance(ended, InterviewEnded) and ended.reason in {"completed", "hard_limit"}
    assert ended.at <= settings.hard_limit_seconds
    entered = [e.phase for e in events if isinstance(e, PhaseEntered)]
    assert entered == list(PHASE_ORDER)
    times = [e.at for e in events]
    assert times == sorted(times)


async def test_run_timers_wakes_on_phase_change_and_fires_on_time(settings, banks):
    engine, clock, events = await started(settings, banks, profile=Profile(role="backend", level=Level.MID))
    timer = asyncio.create_task(engine.run_timers())
    await asyncio.sleep(0)
    await engine.next_question()
    assert await engine.end_phase() is None  # experience starts at 0 with a rebalanced budget
    await asyncio.sleep(0)
    budget = engine.timing.budget_seconds
    clock.advance(budget - settings.time_warning_seconds)
    for _ in range(5):
        await asyncio.sleep(0)
    assert isinstance(events[-1], TimeWarning) and events[-1].phase is Phase.EXPERIENCE
    await engine.end("candidate_left")
    await asyncio.wait_for(timer, 1)


async def test_questions_never_repeat_and_respect_max_per_phase(settings, banks):
    engine, _, _ = await started(settings, banks, profile=Profile(role="backend", level=Level.SENIOR))
    seen = []
    while True:
        nxt = await engine.next_question()
        if nxt.question is None:
            break
        seen.append((nxt.phase, nxt.question.id))
    ids = [q for _, q in seen]
    assert len(ids) == len(set(ids))
    for phase in PHASE_ORDER:
        asked = [q for p, q in seen if p is phase]
        assert settings.phases[phase].min_questions <= len(asked) <= settings.phases[phase].max_questions
    assert engine.ended and engine.snapshot().end_reason == "completed"


async def test_role_level_questions_come_first_then_generic_top_up(settings, banks):
    engine, _, _ = await started(settings, banks, profile=Profile(role="backend", level=Level.JUNIOR))
    await engine.next_question()
    await engine.end_phase()
    nxt = await engine.next_question()
    assert nxt.phase is Phase.EXPERIENCE and nxt.question.id.startswith("be-junior-experience")


async def test_follow_ups_are_capped_and_use_bank_wording(settings, banks):
    engine, _, _ = await started(settings, banks)
    nxt = await engine.next_question()
    first = await engine.follow_up()
    second = await engine.follow_up()
    third = await engine.follow_up()
    assert first.allowed and first.text == banks.question(nxt.question.id).follow_ups[0]
    assert second.allowed and second.remaining == 0
    assert not third.allowed and "limit" in third.reason


async def test_no_follow_up_once_phase_time_is_up(settings, banks):
    engine, clock, _ = await started(settings, banks)
    await engine.next_question()
    clock.advance(121)
    follow = await engine.follow_up()
    assert not follow.allowed and "time is up" in follow.reason


async def test_introduction_cannot_be_left_before_profile_or_minimum(settings, banks):
    engine, _, _ = await started(settings, banks)
    assert "profile" in (await engine.end_phase() or "")
    await engine.set_profile(name="Ada", role_text="I'm a backend developer", years=3)
    assert "at least 1" in (await engine.end_phase() or "")
    await engine.next_question()
    assert await engine.end_phase() is None
    assert engine.phase is Phase.EXPERIENCE


async def test_profile_detection_sets_role_and_level_once(settings, banks):
    engine, _, _ = await started(settings, banks)
    p = await engine.set_profile(name="Ada", role_text="server-side person", years=6)
    assert (p.role, p.level, p.source) == ("backend", Level.SENIOR, "detected")
    p = await engine.set_profile(role_text="frontend", years=1)
    assert (p.role, p.level, p.years) == ("backend", Level.SENIOR, 1)


async def test_unknown_role_falls_back_to_generic_and_keeps_position(settings, banks):
    engine, _, _ = await started(settings, banks)
    p = await engine.set_profile(role_text="Blockchain wizard", years=0)
    assert (p.role, p.position, p.level, p.source) == ("generic", "Blockchain wizard", Level.FRESHER, "fallback")


async def test_preset_profile_wins_over_what_the_candidate_says(settings, banks):
    engine, _, _ = await started(settings, banks,
                                 profile=Profile(name="Grace", role="backend", level=Level.MID, source="preset"))
    p = await engine.set_profile(name="Someone Else", role_text="designer", years=0)
    assert (p.name, p.role, p.level) == ("Grace", "backend", Level.MID)


async def test_no_role_by_end_of_introduction_uses_generic_bank(settings, banks):
    engine, clock, _ = await started(settings, banks)
    clock.advance(165)
    await engine.poll()
    assert engine.phase is Phase.EXPERIENCE
    assert (engine.profile.role, engine.profile.source, engine.level) == ("generic", "fallback", Level.MID)


async def test_a_role_named_after_the_fallback_still_counts(settings, banks):
    engine, clock, _ = await started(settings, banks)
    clock.advance(165)
    await engine.poll()
    p = await engine.set_profile(name="Ada", role_text="I do server-side work", years=8)
    assert (p.role, p.source, p.level) == ("backend", "detected", Level.SENIOR)
    assert (await engine.next_question()).question.id.startswith("be-senior-experience")
    p = await engine.set_profile(role_text="actually frontend")
    assert p.role == "backend"  # a detected role stays


async def test_warning_limit_ends_politely(settings, banks):
    engine, _, events = await started(settings, banks)
    assert await engine.flag_behaviour("insult") == 1
    assert await engine.flag_behaviour("insult") == 2
    assert not engine.ended
    await engine.flag_behaviour("insult")
    assert engine.ended and events[-1] == InterviewEnded(0.0, "misconduct")


async def test_hard_limit_always_wins(banks):
    settings = InterviewSettings(grace_seconds=600, hard_limit_minutes=25)
    engine, clock, _ = await started(settings, banks)
    clock.advance(1501)
    await engine.poll()
    assert engine.ended and engine.now() <= settings.hard_limit_seconds


async def test_time_stops_when_ended(settings, banks):
    engine, clock, _ = await started(settings, banks)
    clock.advance(50)
    await engine.end("candidate_left")
    clock.advance(500)
    assert engine.now() == 50 and engine.snapshot().elapsed_seconds == 50


async def test_restore_resumes_with_the_same_remaining_budget(settings, banks):
    engine, clock, _ = await started(settings, banks, profile=Profile(role="backend", level=Level.MID))
    await engine.next_question()
    clock.advance(70)
    snap = engine.snapshot()
    other = InterviewEngine.restore(snap, settings, banks, FakeClock(5.0))
    assert other.phase is Phase.INTRODUCTION
    assert other.phase_remaining() == engine.phase_remaining() == 50
    assert other.snapshot() == snap


async def test_notes_are_kept_with_phase_and_time(settings, banks):
    engine, clock, _ = await started(settings, banks)
    clock.advance(12)
    await engine.add_note("mentioned leading a migration")
    note = engine.snapshot().notes[0]
    assert (note.phase, note.at, note.text) == (Phase.INTRODUCTION, 12, "mentioned leading a migration")


@pytest.mark.parametrize("grace", [0.0, 45.0])
async def test_every_phase_visited_when_candidate_answers_at_length(grace, banks):
    settings = InterviewSettings(grace_seconds=grace)
    engine, clock, events = await started(settings, banks, profile=Profile(role="backend", level=Level.MID))
    while not engine.ended:
        await engine.next_question()
        clock.advance(100)
        await engine.poll()
    assert [e.phase for e in events if isinstance(e, PhaseEntered)] == list(PHASE_ORDER)
