"""`sima token`, `sima worker` and `sima console --text`, and the worker's job plumbing that runs without a server."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import pickle
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from livekit.agents import JobExecutorType, JobProcess
from livekit.agents.testing import fake_job_context
from livekit.api import TokenVerifier
from typer.testing import CliRunner

from engine.transcript import InterviewRecord, Speaker
from pipeline.journal import JournalSink
from pipeline.providers import ProviderStack
from pipeline.registry import BuildContext
from pipeline.tokens import TokenError, candidate_token, parse_ttl, preset_metadata
from pipeline.worker import WorkerRuntime, build_server, candidate_preset, entrypoint
from sima.cli import app
from sima.commands.worker import load_runtime
from tests.pipeline.conftest import ROOT, make_setup, text_stack
from tests.pipeline.scripted import Call, ScriptedInterviewer
from tests.support.openai_server import ScriptedOpenAI

KEY, SECRET = "devkey", "a-long-enough-development-secret-0123456789"
INTRO = "Hi, I'm Ada Lovelace, a backend developer with five years of experience."


def write_config(tmp_path: Path, llm_url: str = "http://127.0.0.1:9/v1", profile: str = "scripted") -> Path:
    """config.yaml as shipped, plus a profile on the scripted server, with storage and runs under tmp_path."""
    data = yaml.safe_load((ROOT / "config.yaml").read_text())
    data["profiles"]["scripted"] = {
        "stt": {"provider": "openai-compatible", "base_url": llm_url, "model": "whisper-1"},
        "llm": {"provider": "openai-compatible", "base_url": llm_url, "model": "scripted-model"},
        "tts": {"provider": "openai-compatible", "base_url": llm_url, "model": "tts-1", "voice": "coral"},
    }
    data["profile"] = profile
    data["storage"] = {"url": f"sqlite:///{tmp_path / 'sima.db'}"}
    data["paths"] = {"question_banks": str(ROOT / "question_banks"), "prompt_templates": str(ROOT / "prompt_templates"),
                     "runs": str(tmp_path / "runs"), "cache": str(tmp_path / "cache")}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def runner(**env: str) -> CliRunner:
    clean = {k: None for k in os.environ if k.startswith(("LIVEKIT_", "OPENAI_", "DEEPGRAM_", "SIMA_"))}
    return CliRunner(env={**clean, **env})


# ----- sima token ----------------------------------------------------------------------------------------------


def test_token_joins_one_room_for_a_bounded_time_and_dispatches_the_interviewer(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    result = runner(LIVEKIT_API_KEY=KEY, LIVEKIT_API_SECRET=SECRET).invoke(app, [
        "-c", str(config), "token", "--room", "iv-42", "--identity", "ada", "--name", "Ada Lovelace",
        "--role", "backend developer", "--seniority", "senior", "--ttl", "20m"])
    assert result.exit_code == 0, result.output
    claims = TokenVerifier(KEY, SECRET).verify(result.stdout.strip())
    assert claims.identity == "ada" and claims.name == "Ada Lovelace"
    assert claims.video is not None and claims.video.room == "iv-42" and claims.video.room_join
    assert not claims.video.room_create and not claims.video.room_admin and not claims.video.room_list
    assert claims.room_config is not None
    dispatch = claims.room_config.agents[0]
    assert dispatch.agent_name == "sima-interviewer"
    preset = {"candidate_name": "Ada Lovelace", "role": "backend", "seniority": "senior"}
    assert json.loads(dispatch.metadata) == preset == json.loads(claims.metadata)


def test_token_lifetime_is_bounded() -> None:
    assert parse_ttl("15m") == timedelta(minutes=15) and parse_ttl("2h") == timedelta(hours=2)
    for bad in ("3h", "0m", "soon", ""):
        with pytest.raises(TokenError):
            parse_ttl(bad)
    jwt = candidate_token(KEY, SECRET, room="r", identity="i", agent_name="a")
    raw = __import__("jwt").decode(jwt, options={"verify_signature": False})
    assert raw["exp"] - raw["nbf"] == 15 * 60


@pytest.mark.parametrize(("env", "args", "message"), [
    ({}, [], "LIVEKIT_API_KEY"),
    ({"LIVEKIT_API_KEY": KEY, "LIVEKIT_API_SECRET": SECRET}, ["--ttl", "3h"], "--ttl"),
    ({"LIVEKIT_API_KEY": KEY, "LIVEKIT_API_SECRET": SECRET}, ["--role", "astronaut"], "--role"),
    ({"LIVEKIT_API_KEY": KEY, "LIVEKIT_API_SECRET": SECRET}, ["--room", "../x"], "--room"),
])
def test_token_errors_are_clear(tmp_path: Path, env: dict[str, str], args: list[str], message: str) -> None:
    config = write_config(tmp_path)
    base = ["-c", str(config), "token", "--room", "iv-1", "--identity", "ada"]
    result = runner(**env).invoke(app, [*base, *args])
    assert result.exit_code == 1 and message in result.output


# ----- sima worker ---------------------------------------------------------------------------------------------


def test_worker_reports_every_missing_setting_before_starting(tmp_path: Path) -> None:
    config = write_config(tmp_path, profile="deepgram")
    result = runner().invoke(app, ["-c", str(config), "worker", "start"])
    assert result.exit_code == 1
    for expected in ("profiles.deepgram.stt[0]: provider 'deepgram' needs an API key: set $DEEPGRAM_API_KEY",
                     "profiles.deepgram.llm[0]: provider 'openai' needs an API key: set $OPENAI_API_KEY",
                     "$LIVEKIT_URL: not set", "$LIVEKIT_API_KEY: not set", "$LIVEKIT_API_SECRET: not set"):
        assert expected in result.output


def test_preset_from_metadata_is_validated(real_banks) -> None:
    full = candidate_preset('{"candidate_name": "Ada", "role": "Backend Developer", "seniority": "Senior"}',
                            real_banks)
    assert full is not None and (full.name, full.role, full.level, full.source) == ("Ada", "backend", "senior",
                                                                                  "preset")
    assert candidate_preset("", real_banks) is None and candidate_preset("not json", real_banks) is None
    partial = candidate_preset('{"role": "astronaut", "seniority": "wizard", "candidate_name": "Bo"}', real_banks)
    assert partial is not None and (partial.name, partial.role, partial.level) == ("Bo", None, None)


def test_worker_jobs_pickle_and_prewarm_builds_the_stack_once(tmp_path: Path) -> None:
    loader = functools.partial(load_runtime, write_config(tmp_path), evaluate=False)
    server = build_server(loader, agent_name="sima-interviewer")
    # job processes are forked from a server: what they run must survive pickling
    restored = pickle.loads(pickle.dumps(server._entrypoint_fnc))
    assert restored.func is entrypoint and restored.args[0].args == loader.args
    proc = JobProcess(executor_type=JobExecutorType.THREAD, user_arguments=None, http_proxy=None)
    pickle.loads(pickle.dumps(server.setup_fnc))(proc)
    stack = proc.userdata["stack"]
    assert isinstance(stack, ProviderStack) and stack.vad is not None and stack.stt is not None
    assert proc.userdata["runtime"].setting_prefix == "profiles.scripted"


# ----- sima console --text -------------------------------------------------------------------------------------


async def test_console_text_interview(tmp_path: Path) -> None:
    script = ScriptedInterviewer(plans={INTRO: [
        Call("record_profile", {"name": "Ada Lovelace", "role": "backend developer", "years_of_experience": 5}),
        Call("next_question")]})
    async with ScriptedOpenAI(script) as llm:
        config = write_config(tmp_path, llm.base_url)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SIMA_")}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "sima", "-c", str(config), "console", "--text", "--no-evaluate",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env={**env, "COLUMNS": "400"}, cwd=str(ROOT))
        stdout, stderr = await asyncio.wait_for(proc.communicate(f"{INTRO}\nI build payment APIs.\n".encode()), 120)
    text = stdout.decode()
    assert proc.returncode == 0, stderr.decode()[-2000:]
    assert "SIMA: Greet the candidate now" in text
    assert text.count("SIMA: Ask this question now") == 2  # the shipped plan asks up to 3 introduction questions
    assert "ended (candidate_left)" in text

    journals = list((tmp_path / "runs").glob("*/journal.jsonl"))
    assert len(journals) == 1
    turns = JournalSink(tmp_path / "runs").read(journals[0].parent.name).turns
    assert [t.speaker for t in turns] == [Speaker.AGENT, Speaker.CANDIDATE, Speaker.AGENT, Speaker.CANDIDATE,
                                          Speaker.AGENT]
    from storage.store import Store

    store = Store(f"sqlite:///{tmp_path / 'sima.db'}")
    assert [t.text for t in store.turns(journals[0].parent.name)] == [t.text for t in turns]
    assert [j.interview_id for j in store.pending_jobs()] == [journals[0].parent.name]  # queued, not evaluated


async def test_a_job_interviews_with_the_preset_from_its_metadata(real_banks, templates, journal) -> None:
    finished: list[InterviewRecord] = []

    async def on_finished(record: InterviewRecord) -> None:
        finished.append(record)

    async with ScriptedOpenAI(ScriptedInterviewer()) as llm:
        setup = make_setup(real_banks, templates)
        runtime = WorkerRuntime(setup=setup, build_ctx=BuildContext(env={}), setting_prefix="profiles.test",
                                sink=journal, on_finished=on_finished)
        stack = text_stack(llm.base_url)
        metadata = preset_metadata(name="Ada Lovelace", role="backend", seniority="junior")
        with fake_job_context(job_metadata=metadata) as ctx:
            ctx.proc.userdata.update(runtime=runtime, stack=stack)
            await entrypoint(lambda: runtime, ctx)
            session = ctx.primary_session
            await session.run(user_input="Hello! Happy to be here.")
            session.shutdown()
            async with asyncio.timeout(10):
                while not finished:
                    await asyncio.sleep(0.02)
    record = finished[0]
    assert (record.candidate_name, record.role, record.level) == ("Ada Lovelace", "backend", "junior")
    assert len(record.turns) == 3 and record.end_reason == "session_closed"
    assert [t.text for t in journal.read(record.interview_id).turns] == [t.text for t in record.turns]
