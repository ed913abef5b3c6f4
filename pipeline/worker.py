"""The LiveKit worker: an AgentServer whose explicitly dispatched jobs are interviews.

LiveKit runs each job in a process of its own (spawned with forkserver), so everything handed to it must pickle: the
app passes a `loader`, a module-level function (or a `functools.partial` of one) that builds a
:class:`WorkerRuntime` — config, banks, templates, sink, evaluation hook — inside each process. The prewarm step runs
the loader and builds the provider stack (with the Silero VAD) before a job is offered, so a candidate never waits
for models to load.

The candidate's name, role and level can be preset in the job's metadata (set by the token's dispatch, see
:mod:`pipeline.tokens`), the room's metadata or the candidate's own, as JSON:
`{"candidate_name": ..., "role": ..., "seniority": ...}`; the first that gives any wins.

Example::

    >>> server = build_server(functools.partial(load_runtime, Path("config.yaml")), agent_name="sima-interviewer")
    ... # doctest: +SKIP
    >>> run_livekit_cli(server, ["start"])   # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from livekit import rtc
from livekit.agents import AgentServer, JobContext, JobProcess, cli
from livekit.agents.types import NOT_GIVEN, NotGiven
from livekit.agents.voice import room_io

from engine.banks import BankSet
from engine.clock import Clock, RealClock
from engine.phases import Level
from engine.snapshot import Profile
from pipeline.ports import InterviewSink, OnFinished
from pipeline.progress import ProgressPublisher
from pipeline.providers import ProviderStack, build_stack, stop_services
from pipeline.registry import BuildContext
from pipeline.resume import InterviewDirectory, PausableClock, RejoinWatch, ResumeSettings
from pipeline.session import InterviewSession, InterviewSetup

log = logging.getLogger(__name__)

# the candidate's audio as the session hears it: the VAD and Whisper run at 16 kHz, so LiveKit's Rust side
# resamples once instead of every VAD stream in Python (LiveKit's default is 24 kHz)
ROOM_INPUT_RATE = 16_000

PREWARM_TIMEOUT = 120.0  # seconds a new job process may take to load config and models
SHUTDOWN_TIMEOUT = 120.0  # seconds a finished job may take to queue its evaluation (LiveKit's bound)


@dataclass
class WorkerRuntime:
    """What every interview of a worker process needs; `setting_prefix` names the profile in error messages."""

    setup: InterviewSetup
    build_ctx: BuildContext
    setting_prefix: str
    sink: InterviewSink
    on_finished: OnFinished | None = None
    clock: Clock = field(default_factory=RealClock)
    directory: InterviewDirectory | None = None  # where unfinished interviews are found to resume
    resume: ResumeSettings = field(default_factory=ResumeSettings)


RuntimeLoader = Callable[[], WorkerRuntime]


def candidate_preset(metadata: str, banks: BankSet) -> Profile | None:
    """The preset in job or room metadata, validated against the banks; bad values are logged and left out.

    >>> from tests.factories import make_banks
    >>> p = candidate_preset('{"candidate_name": "Ada", "role": "backend", "seniority": "senior"}', make_banks())
    >>> (p.name, p.role, p.level.value, p.source)
    ('Ada', 'backend', 'senior', 'preset')
    """
    if not metadata.strip():
        return None
    try:
        data = json.loads(metadata)
    except ValueError:
        log.warning("metadata is not JSON; no preset: %.80r", metadata)
        return None
    if not isinstance(data, dict):
        return None
    name = data.get("candidate_name")
    name = name.strip()[:120] if isinstance(name, str) and name.strip() else None
    role = level = None
    if isinstance(raw_role := data.get("role"), str) and raw_role.strip():
        role = raw_role if raw_role in banks.banks else banks.match_role(raw_role)
        if role is None:
            log.warning("preset role %r matches no question bank; the candidate's own words will decide", raw_role)
    if isinstance(raw_level := data.get("seniority"), str) and raw_level.strip():
        try:
            level = Level(raw_level.strip().lower())
        except ValueError:
            log.warning("preset seniority %r is not one of %s", raw_level, ", ".join(lv.value for lv in Level))
    if not (name or role or level):
        return None
    position = banks.bank(role).name if role else None
    return Profile(name=name, role=role, level=level, position=position, source="preset")


def prewarm(loader: RuntimeLoader, proc: JobProcess) -> None:
    """Per process, before any job: load config and models, and build the provider stack once."""
    runtime = loader()
    proc.userdata["runtime"] = runtime
    profile = runtime.setup.profile
    proc.userdata["stack"] = build_stack(profile, runtime.build_ctx, runtime.setting_prefix)


def invitation_of(metadata: Sequence[str]) -> str | None:
    """The invitation id in the first job, room or participant metadata that names one.

    >>> invitation_of(["", '{"invitation_id": "inv-7"}', '{"invitation_id": "other"}'])
    'inv-7'
    """
    for raw in metadata:
        with contextlib.suppress(ValueError):
            data = json.loads(raw) if raw.strip() else None
            if isinstance(data, dict) and isinstance(found := data.get("invitation_id"), str) and found.strip():
                return found.strip()[:128]
    return None


async def entrypoint(loader: RuntimeLoader, ctx: JobContext) -> None:
    """One job: one interview in the job's room — a new one, or the room's unfinished one resumed — ended when the
    agent says goodbye or the candidate has been gone longer than the rejoin grace period."""
    runtime: WorkerRuntime = ctx.proc.userdata.get("runtime") or loader()
    prewarmed: ProviderStack | None = ctx.proc.userdata.get("stack")
    # jobs sharing a process (a thread executor) each get their own VAD object: see ProviderStack.for_session
    stack = prewarmed.for_session() if prewarmed else build_stack(runtime.setup.profile, runtime.build_ctx,
                                                                  runtime.setting_prefix)
    metadata = [ctx.job.metadata]
    room: rtc.Room | NotGiven = NOT_GIVEN
    room_options: room_io.RoomOptions | NotGiven = NOT_GIVEN
    candidate: rtc.RemoteParticipant | None = None
    in_room = not ctx.is_fake_job()  # LiveKit's console runs a fake job: no room, the terminal is the candidate
    if in_room:
        room = ctx.room
        # the interview (and its clock) starts when the candidate is there to hear the greeting
        await ctx.connect()
        candidate = await ctx.wait_for_participant()
        metadata += [ctx.room.metadata, candidate.metadata]
        # a candidate who drops may come back: the rejoin watch below decides when the interview ends
        room_options = room_io.RoomOptions(participant_identity=candidate.identity, close_on_disconnect=False,
                                           audio_input=room_io.AudioInputOptions(sample_rate=ROOM_INPUT_RATE))
    banks = runtime.setup.banks
    preset = next((p for p in (candidate_preset(m, banks) for m in metadata) if p), None)
    location = {"room": ctx.room.name if in_room else None, "invitation_id": invitation_of(metadata)}
    resumable = None
    if in_room and runtime.directory is not None:
        try:
            resumable = await asyncio.to_thread(runtime.directory.find_unfinished, **location)
        except Exception:  # no database: a new interview (its journal still keeps every turn)
            log.exception("could not look for an unfinished interview in room %s", location["room"])
    clock = PausableClock(runtime.clock)
    interview = InterviewSession(
        runtime.setup, stack, runtime.sink, on_finished=runtime.on_finished, clock=clock, preset=preset,
        snapshot=resumable.snapshot if resumable else None, previous_turns=resumable.turns if resumable else None,
        started_at=resumable.started_at if resumable else None, location=location)
    ctx.log_context_fields["interview_id"] = interview.interview_id
    if in_room:  # the candidate's page shows the phase and time left from these attributes
        interview.engine.subscribe(ProgressPublisher(interview.engine, ctx.room.local_participant))
    if resumable is not None:
        log.info("resuming interview %s in room %s: %s, %d turns so far", interview.interview_id, location["room"],
                 resumable.snapshot.state, len(resumable.turns))
        with contextlib.suppress(Exception):
            await asyncio.to_thread(runtime.directory.set_location, interview.interview_id,  # type: ignore[union-attr]
                                    **location)
    ended_by_interview = "interview over"
    watch = RejoinWatch(runtime.resume, clock, on_timeout=lambda: interview.aclose(reason="candidate_left"),
                        on_rejoined=interview.welcome_back)
    if candidate is not None:
        identity = candidate.identity
        ctx.room.on("participant_disconnected", lambda p: watch.left() if p.identity == identity else None)
        ctx.room.on("participant_connected", lambda p: watch.rejoined() if p.identity == identity else None)

    async def finish(reason: str) -> None:
        # the job process lives until its shutdown callbacks are done; the evaluation is only queued here
        away = watch.away
        await watch.aclose()
        log.info("interview %s: job shutting down (%s)", interview.interview_id, reason)
        if not in_room or reason.startswith(ended_by_interview) or away:
            # over already, or its candidate is gone (the terminal's user of a console job stopped)
            await interview.aclose(reason="candidate_left")
        else:  # the job goes with the candidate still there (the worker stops): keep the interview resumable
            await interview.suspend()
        await stop_services(runtime.build_ctx)  # one job per process: its local model server goes with it

    ctx.add_shutdown_callback(finish)
    interview.session.on("close", lambda ev: ctx.shutdown(reason=f"{ended_by_interview} ({ev.reason.value})"))
    await interview.start(room=room, room_options=room_options)


def build_server(loader: RuntimeLoader, *, agent_name: str, **server_options: Any) -> AgentServer:
    """An AgentServer for explicit dispatch to `agent_name`; `server_options` go to AgentServer as they are."""
    # prewarm loads every model of the profile (a local LLM server included): LiveKit's 10 s default is too short
    server_options.setdefault("initialize_process_timeout", PREWARM_TIMEOUT)
    # a job's shutdown only queues the evaluation (`sima evaluations worker` runs the judge)
    server_options.setdefault("shutdown_process_timeout", SHUTDOWN_TIMEOUT)
    server = AgentServer(setup_fnc=functools.partial(prewarm, loader), **server_options)
    server.rtc_session(functools.partial(entrypoint, loader), agent_name=agent_name)
    return server


@contextlib.contextmanager
def _argv(args: Sequence[str]) -> Iterator[None]:
    saved = sys.argv
    sys.argv = ["sima", *args]
    try:
        yield
    finally:
        sys.argv = saved


def run_livekit_cli(server: AgentServer, args: Sequence[str]) -> None:
    """Run LiveKit's own command line (`dev`, `start`, `console`) for `server`, as if called with `args`."""
    with _argv(args):
        cli.run_app(server)
