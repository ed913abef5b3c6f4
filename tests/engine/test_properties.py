"""Property-based checks over random interviews: whatever candidates and agents do, the engine's rules hold."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.clock import FakeClock
from engine.events import Event, PhaseEntered
from engine.interview import InterviewEngine
from engine.phases import PHASE_ORDER, Level
from engine.settings import InterviewSettings
from engine.snapshot import EngineSnapshot, Profile
from tests.factories import make_banks

BANKS = make_banks()

action = st.one_of(
    st.tuples(st.just("answer"), st.floats(min_value=1, max_value=240)),
    st.tuples(st.just("next"), st.just(0.0)),
    st.tuples(st.just("follow"), st.just(0.0)),
    st.tuples(st.just("end_phase"), st.just(0.0)),
    st.tuples(st.just("note"), st.just(0.0)),
    st.tuples(st.just("flag"), st.just(0.0)),
    st.tuples(st.just("profile"), st.floats(min_value=0, max_value=20)),
)
interview_settings = st.builds(
    InterviewSettings,
    grace_seconds=st.floats(min_value=0, max_value=90),
    time_warning_seconds=st.floats(min_value=0, max_value=40),
    follow_up_cap=st.integers(min_value=0, max_value=3),
    warning_limit=st.integers(min_value=2, max_value=6),
)


async def apply(engine: InterviewEngine, clock: FakeClock, step: tuple[str, float]) -> None:
    kind, value = step
    if kind == "answer":
        clock.advance(value)
        await engine.poll()
    elif kind == "next":
        await engine.next_question()
    elif kind == "follow":
        await engine.follow_up()
    elif kind == "end_phase":
        await engine.end_phase()
    elif kind == "note":
        await engine.add_note("a note")
    elif kind == "flag":
        await engine.flag_behaviour("rude")
    elif kind == "profile":
        await engine.set_profile(name="Sam", role_text="backend developer", years=value)


async def run(s: InterviewSettings, steps: list[tuple[str, float]], profile: Profile | None
              ) -> tuple[InterviewEngine, list[Event]]:
    clock = FakeClock(123.0)
    engine = InterviewEngine(s, BANKS, clock, profile=profile)
    events: list[Event] = []
    engine.subscribe(events.append)
    await engine.start()
    for step in steps:
        await apply(engine, clock, step)
    # let the interview run out, so every run is checked to its end
    clock.advance(10_000)
    await engine.poll()
    return engine, events


preset = st.one_of(st.none(), st.builds(Profile, role=st.just("backend"), level=st.sampled_from(Level)))


@settings(max_examples=300, deadline=None)
@given(s=interview_settings, steps=st.lists(action, max_size=80), profile=preset)
def test_rules_hold_for_any_interview(s, steps, profile):
    engine, events = asyncio.run(run(s, steps, profile))
    snap = engine.snapshot()
    entered = [e.phase for e in events if isinstance(e, PhaseEntered)]
    assert entered == list(PHASE_ORDER)[: len(entered)], "phases in order, none skipped"
    for t in snap.phases:
        assert t.ended_at is not None
        assert t.ended_at - t.started_at <= t.budget_seconds + s.grace_seconds + 1e-6, "phase within budget + grace"
    assert snap.elapsed_seconds <= s.hard_limit_seconds + 1e-6, "never past the hard limit"
    ids = [a.id for a in snap.asked]
    assert len(ids) == len(set(ids)), "no repeated question"
    assert all(a.follow_ups_used <= s.follow_up_cap for a in snap.asked), "follow-ups capped"
    assert engine.ended
    times = [e.at for e in events]
    assert times == sorted(times), "events in time order"


async def split_run(s: InterviewSettings, steps: list[tuple[str, float]], cut: int
                    ) -> tuple[EngineSnapshot, EngineSnapshot, list[Event], list[Event]]:
    clock = FakeClock(0.0)
    engine = InterviewEngine(s, BANKS, clock, interview_id="same")
    await engine.start()
    for step in steps[:cut]:
        await apply(engine, clock, step)
    saved = EngineSnapshot.model_validate_json(engine.snapshot().model_dump_json())
    other_clock = FakeClock(99_999.0)  # another process, another clock
    other = InterviewEngine.restore(saved, s, BANKS, other_clock)
    ev_a: list[Event] = []
    ev_b: list[Event] = []
    engine.subscribe(ev_a.append)
    other.subscribe(ev_b.append)
    for step in steps[cut:]:
        await apply(engine, clock, step)
        await apply(other, other_clock, step)
    return engine.snapshot(), other.snapshot(), ev_a, ev_b


@settings(max_examples=200, deadline=None)
@given(s=interview_settings, steps=st.lists(action, min_size=1, max_size=60), data=st.data())
def test_restore_from_any_snapshot_continues_identically(s, steps, data):
    cut = data.draw(st.integers(min_value=0, max_value=len(steps)))
    a, b, ev_a, ev_b = asyncio.run(split_run(s, steps, cut))
    # another clock origin changes float rounding in the last bits, nothing else
    assert approx_equal(a.model_dump(), b.model_dump())
    assert approx_equal([vars(e) | {"kind": type(e)} for e in ev_a], [vars(e) | {"kind": type(e)} for e in ev_b])


def approx_equal(x: object, y: object) -> bool:
    if isinstance(x, float) and isinstance(y, float):
        return abs(x - y) <= 1e-6
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(approx_equal(x[k], y[k]) for k in x)
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(approx_equal(a, b) for a, b in zip(x, y, strict=True))
    return x == y
