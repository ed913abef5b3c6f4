"""Kill -9 the process conducting an interview at ten random moments, resume it each time, and check that nothing
was lost: every line the candidate read and every answer the agent heard is in the transcript once, in order;
phases in order; no bank question asked twice; interview time within the hard limit.

The process is a real `sima console --text` (the same session, agent, engine, journal and database as a room job),
its model a scripted OpenAI-compatible server on 127.0.0.1, its candidate a scripted typist.
"""

from __future__ import annotations

import asyncio
import logging
import random
import signal
from collections import Counter
from pathlib import Path

from engine.phases import PHASE_ORDER, Phase
from engine.settings import InterviewSettings
from engine.transcript import Speaker
from pipeline.journal import JournalSink
from storage.store import Store
from tests.reliability.support import ACK, SHORT_INTERVIEW, Candidate, start_sima, write_config
from tests.support.openai_server import Reply, ScriptedOpenAI

log = logging.getLogger(__name__)

KILLS = 10
TIME_SCALE = 60
ANSWERS = [f"Answer {i}: I worked on system number {i} and measured its latency before and after each change."
           for i in range(60)]


def _is_subsequence(part: list[str], whole: list[str]) -> bool:
    it = iter(whole)
    return all(any(x == y for y in it) for x in part)


async def test_sigkill_at_ten_random_turns_loses_nothing(tmp_path: Path, capsys) -> None:
    rng = random.Random()
    seed = rng.randrange(1_000_000)
    rng.seed(seed)
    candidate = Candidate(ANSWERS)
    # after how many answers typed in all to kill (a whole interview takes about 26)
    kill_points = sorted(rng.sample(range(1, 21), KILLS))
    kills = resumes = 0
    interview_id: str | None = None
    async with ScriptedOpenAI(lambda body: Reply(text=ACK)) as server:
        config = write_config(tmp_path, server.base_url)
        while True:
            # interview time 60× faster than the typing, so timers fire and the hard limit is in play
            args = ["console", "--text", "--no-evaluate", "--time-scale", str(TIME_SCALE)]
            args += ["--resume", interview_id] if interview_id else []
            proc = await start_sima(config, *args)
            if interview_id:
                resumes += 1
            stop_after = kill_points[kills] - len(candidate.sent) if kills < KILLS else None
            try:
                outcome = await candidate.converse(proc, stop_after=stop_after)
                if outcome == "stopped":
                    # kill at a random moment: before the answer is read, while it is handled, or after the reply
                    await asyncio.sleep(rng.choice([0.0, rng.uniform(0.0, 0.3), rng.uniform(0.3, 1.0)]))
                    proc.send_signal(signal.SIGKILL)
                    kills += 1
            finally:
                _, stderr = await asyncio.wait_for(proc.communicate(), 60)
            if outcome == "ended":
                assert proc.returncode == 0, stderr.decode()[-3000:]
                break
            assert proc.returncode == -signal.SIGKILL
            journals = list((tmp_path / "runs").glob("*/journal.jsonl"))
            assert len(journals) == 1, "one interview, resumed each time"
            interview_id = journals[0].parent.name
            assert kills <= KILLS + 1

    assert interview_id is not None
    store = Store(f"sqlite:///{tmp_path / 'sima.db'}")
    turns = store.turns(interview_id)
    journal = JournalSink(tmp_path / "runs").read(interview_id)
    snapshot = store.load_snapshot(interview_id)
    assert snapshot is not None and snapshot.end_reason == "completed", snapshot
    # the database and the journal hold the same transcript, numbered without gaps or repeats
    assert [t.index for t in turns] == list(range(len(turns)))
    assert [(t.speaker, t.text) for t in turns] == [(t.speaker, t.text) for t in journal.turns]
    agent = [t.text for t in turns if t.speaker is Speaker.AGENT]
    answers = [t.text for t in turns if t.speaker is Speaker.CANDIDATE]
    lost_lines = [line for line in candidate.seen if line not in agent]
    lost_answers = [a for a in candidate.heard if a not in answers]
    duplicated = [a for a, n in Counter(answers).items() if n > 1]
    assert _is_subsequence(candidate.seen, agent), "every line the candidate read is in the transcript, in order"
    assert _is_subsequence(candidate.heard, answers), "every answer the agent heard is in the transcript, in order"
    assert not lost_lines and not lost_answers and not duplicated
    assert set(answers) <= set(candidate.sent)
    # phases in order, each once; no bank question asked twice; within the hard limit
    phases = [p.phase for p in snapshot.phases]
    assert phases == list(PHASE_ORDER)
    asked = [q.id for q in snapshot.asked]
    assert len(asked) == len(set(asked)), f"a question was asked twice: {asked}"
    turn_phases = [t.phase for t in turns if t.phase is not None]
    assert [PHASE_ORDER.index(p) for p in turn_phases] == sorted(PHASE_ORDER.index(p) for p in turn_phases)
    hard_limit = InterviewSettings.model_validate(SHORT_INTERVIEW).hard_limit_seconds
    assert snapshot.ended_at is not None and snapshot.ended_at <= hard_limit
    assert all(t.phase in (None, *Phase) for t in turns)
    store.close()
    lost = len(lost_lines) + len(lost_answers)
    with capsys.disabled():
        print(f"\nkill test (seed {seed}, kills after answers {kill_points}): {kills} kills, {resumes} resumes, "
              f"{lost} turns lost, {len(duplicated)} duplicated; {len(turns)} turns ({len(candidate.seen)} agent "
              f"lines read, {len(candidate.heard)} answers heard), {len(asked)} questions, "
              f"{snapshot.ended_at / 60:.1f} interview minutes")
    assert kills == KILLS and resumes == KILLS
