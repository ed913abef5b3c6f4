"""Turn-taking: a quiet candidate is prompted once, then the interview moves on (never a typing one); every
candidate turn is filed under the question they heard before they began, not under one started while they were still
answering or one they talked over; a step talked over is said again once, and talked over again it counts as heard."""

from __future__ import annotations

import asyncio

from livekit import rtc
from livekit.agents import llm
from livekit.agents.voice import io

from engine.clock import FakeClock
from engine.interview import InterviewEngine
from engine.phases import Phase
from engine.plan import advance_to
from engine.transcript import Speaker
from pipeline.audio_io import InstantPlayback, WavFileInput
from pipeline.session import InterviewSession
from pipeline.transcript import TranscriptRecorder
from tests.pipeline.conftest import DATA, short_settings, text_stack
from tests.pipeline.test_audio_turn import wait_until
from tests.pipeline.test_interview_tools import elapse, go_quiet
from tests.pipeline.test_interview_verbatim import spoken_stack, verbatim_setup
from tests.support.openai_server import Reply, ScriptedOpenAI

INTRO = "Hello! My name is Grace Hopper. I'm applying for the backend developer role, with about three years of work."


async def _silences(real_banks, templates, clock, journal, *, speaking: bool, late: bool = False  # type: ignore[no-untyped-def]
                    ) -> tuple[list[str], InterviewSession]:
    async with ScriptedOpenAI(lambda body: Reply(text="[on topic] Thank you.")) as server:
        interview = InterviewSession(verbatim_setup(real_banks, templates), text_stack(server.base_url), journal,
                                     clock=clock)
        if speaking:  # a microphone (never played: the candidate stays silent)
            interview.session.input.audio = WavFileInput(DATA / "candidate_answer.wav")
        await interview.start(capture_run=True)
        await interview.session.run(user_input=INTRO)
        before = len(interview.turns)
        if late:  # the phase's time and grace run out while the candidate is still thinking
            await elapse(interview, clock, interview.engine.phase_remaining() + 60)
        for _ in range(2):
            await go_quiet(interview)
        said = [t.text for t in interview.turns[before:]]
        await interview.aclose()
    return said, interview


async def test_a_quiet_candidate_hears_the_question_again_once_then_the_interview_moves_on(
        real_banks, templates, clock, journal) -> None:
    said, interview = await _silences(real_banks, templates, clock, journal, speaking=True)
    asked = interview.engine.snapshot().asked
    first, second = real_banks.question(asked[-2].id), real_banks.question(asked[-1].id)
    assert first is not None and second is not None and asked[-2].phase is asked[-1].phase is Phase.EXPERIENCE
    assert said == [f"Take your time. Here's the question again: {first.text}",
                    f"No problem, let's move on. {second.text}"]
    assert asked[-2].answers == ["silence", "silence"] and asked[-2].follow_ups_used == 0


async def test_a_typing_candidate_is_never_prompted(real_banks, templates, clock, journal) -> None:
    said, interview = await _silences(real_banks, templates, clock, journal, speaking=False)
    assert said == [] and not interview.engine.snapshot().answers[1:]


def _message(role: str, text: str, began: float, *, interrupted: bool = False) -> llm.ChatMessage:
    return llm.ChatMessage(role=role, content=[text], interrupted=interrupted,  # type: ignore[arg-type]
                           metrics={"started_speaking_at": began, "stopped_speaking_at": began + 2.0})


async def test_answers_are_filed_under_the_question_heard_before_they_began(real_banks) -> None:
    engine = InterviewEngine(short_settings(), real_banks, FakeClock())
    await engine.start()
    await advance_to(engine, Phase.TECHNICAL)
    recorder = TranscriptRecorder(engine)
    first = engine.current_question
    assert first is not None
    recorder.capture(_message("assistant", first.text, 100.0))
    assert recorder.capture(_message("user", "Isolation levels trade", 105.0)).question_id == first.id
    await engine.next_question()
    second = engine.current_question
    assert second is not None and second.id != first.id
    # the agent started the next question, the candidate went on talking over it: it was not heard
    recorder.capture(_message("assistant", second.text, 110.0, interrupted=True))
    assert recorder.capture(_message("user", "consistency for speed", 111.0)).question_id == first.id
    # the next question said in full, but the candidate had begun before it started: still the first question
    recorder.capture(_message("assistant", second.text, 120.0))
    assert recorder.capture(_message("user", "and that is all", 118.0)).question_id == first.id
    assert recorder.capture(_message("user", "For the cache I would", 125.0)).question_id == second.id


async def test_a_phase_whose_time_is_up_waits_for_a_quiet_candidate_once(real_banks, templates, clock,
                                                                         journal) -> None:
    said, interview = await _silences(real_banks, templates, clock, journal, speaking=True, late=True)
    asked = interview.engine.snapshot().asked
    first, second = real_banks.question(asked[-2].id), real_banks.question(asked[-1].id)
    assert first is not None and second is not None
    assert asked[-2].phase is Phase.EXPERIENCE and asked[-1].phase is Phase.TECHNICAL
    # never "out of time" and another question while they may still be thinking: the same question first
    assert said == [f"Take your time. Here's the question again: {first.text}",
                    "We're out of time for this part, so let's move on to some technical questions. "
                    f"{second.text}"]


async def test_a_late_answer_is_filed_under_the_question_it_answers_and_shifts_nothing(real_banks, templates, clock,
                                                                                       journal) -> None:
    async with ScriptedOpenAI(lambda body: Reply(text="[on topic] Thank you.")) as server:
        interview = InterviewSession(verbatim_setup(real_banks, templates), text_stack(server.base_url), journal,
                                     clock=clock)
        interview.session.input.audio = WavFileInput(DATA / "candidate_answer.wav")
        await interview.start(capture_run=True)
        await interview.session.run(user_input=INTRO)
        engine = interview.engine
        first = engine.current_question
        assert first is not None
        for _ in range(2):  # quiet twice: prompted, then the interview moves on
            await go_quiet(interview)
        current = engine.current_question
        assert current is not None and current.id != first.id
        late = "To sum up the earlier one: " + "; ".join(first.expected_points) + "."
        await interview.session.run(user_input=late)
        said = interview.turns[-1].text
        assert engine.current_question == current  # nothing skipped
        record = await interview.aclose()
    assert said == f"Thank you, I've noted that. Now, the question I asked was: {current.text}"
    assert record is not None
    answer = next(t for t in record.turns if t.text == late)
    assert answer.question_id == first.id
    assert record.answers[-1].move == "late_answer" and record.answers[-1].question_id == first.id


class HeldPlayback(InstantPlayback):
    """A speaker whose segments play until the test lets them finish or the candidate talks over them."""

    def __init__(self) -> None:
        super().__init__("held", sample_rate=24000)
        self.playing = asyncio.Event()
        self.written = asyncio.Event()

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        self.playing.set()

    def flush(self) -> None:
        io.AudioOutput.flush(self)  # all of it written, still playing: let_finish() or session.interrupt() ends it
        self.written.set()

    async def let_finish(self) -> None:
        await self.written.wait()
        self.playing.clear()
        self.written.clear()
        super().flush()

    def clear_buffer(self) -> None:
        self.playing.clear()
        self.written.clear()
        super().clear_buffer()


async def test_a_step_talked_over_is_said_again_once_then_counts_as_heard(real_banks, templates, clock,
                                                                         journal) -> None:
    async with ScriptedOpenAI(lambda body: Reply(text="[on topic] Thank you.")) as server:
        interview = InterviewSession(verbatim_setup(real_banks, templates), spoken_stack(server.base_url), journal,
                                     clock=clock)
        speaker = HeldPlayback()
        interview.session.output.audio = speaker
        engine = interview.engine

        async def reply(text: str, *, talked_over: bool) -> str:
            run = asyncio.ensure_future(interview.session.run(user_input=text))
            await speaker.playing.wait()
            if talked_over:  # the candidate goes on talking over the reply: LiveKit stops it
                interview.session.interrupt()
            else:
                await speaker.let_finish()
            await run
            await wait_until(lambda: interview.turns[-1].speaker is Speaker.AGENT)
            return interview.turns[-1].text

        start = asyncio.ensure_future(interview.start(capture_run=True))
        await speaker.playing.wait()
        await speaker.let_finish()  # the greeting
        await start
        await reply(INTRO, talked_over=False)
        first = engine.current_question
        assert first is not None and engine.phase is Phase.EXPERIENCE
        said = await reply("To sum up: " + "; ".join(first.expected_points) + ".", talked_over=True)
        second = engine.current_question
        assert second is not None and second != first and said.endswith(second.text)
        assert interview.turns[-1].interrupted
        # they finish their answer: the same step again, the question nobody heard
        said = await reply("It took us a year, with two engineers.", talked_over=True)
        assert said == second.text and engine.current_question == second
        # talked over a second time, it counts as heard: these words answer it, and the interview goes on
        await reply("So: " + "; ".join(second.expected_points) + ".", talked_over=False)
        answer = interview.turns[-2]
        assert answer.speaker is Speaker.CANDIDATE and answer.question_id == second.id
        assert engine.snapshot().answers[-1].question_id == second.id
        assert engine.current_question != second
        record = await interview.aclose()
    assert record is not None
    continued = [t for t in record.turns if t.text.startswith("It took us a year")]
    assert len(continued) == 1 and continued[0].question_id == first.id  # the talk-over joined the first answer
