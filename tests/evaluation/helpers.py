"""An interview record to evaluate and judge replies to script, shared by the evaluation tests."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from engine.phases import Level, Phase
from engine.transcript import AskedQuestionDetail, InterviewRecord, PhaseTime, Speaker, Turn, TurnMetrics
from evaluation.judge import ModelEndpoint
from evaluation.settings import Dimension, EvaluationSettings
from tests.support.openai_server import Reply, ScriptedOpenAI

ROOT = Path(__file__).resolve().parents[2]
STARTED = datetime(2026, 1, 23, 14, 30, 52, tzinfo=UTC)

INTRO = "Hi, I'm Priya Sharma. I have been a backend developer for five years, mostly Python and Postgres."
DESIGN = ("I would use a token bucket per client, stored in Redis, so every API node shares the same counters. "
          "If Redis is down we fail open for a minute.")
CONFLICT = ("I disagreed with a teammate about the schema, so we wrote both designs down and measured them. "
            "We picked his, and I learned a lot.")

# One verified quote per dimension: (turn, quote as a judge might write it: other case, other punctuation).
GOOD_QUOTES: dict[Dimension, tuple[int, str]] = {
    Dimension.TECHNICAL: (3, "a token bucket per client stored in redis"),
    Dimension.PROBLEM_SOLVING: (3, "if Redis is down, we fail open for a minute"),
    Dimension.COMMUNICATION: (5, "we wrote both designs down and measured them"),
    Dimension.EXPERIENCE: (1, "backend developer for five years"),
    Dimension.CULTURE_FIT: (5, "We picked his, and I learned a lot."),
}


def make_record(interview_id: str = "iv-1", *, candidate_name: str | None = "Priya Sharma",
                extra_turns: Sequence[str] = (), warnings: Sequence[str] = ()) -> InterviewRecord:
    texts = [
        (Speaker.AGENT, "Hello! Could you introduce yourself?", Phase.INTRODUCTION),
        (Speaker.CANDIDATE, INTRO, Phase.INTRODUCTION),
        (Speaker.AGENT, "How would you design a rate limiter for a public API?", Phase.TECHNICAL),
        (Speaker.CANDIDATE, DESIGN, Phase.TECHNICAL),
        (Speaker.AGENT, "Tell me about a disagreement with a teammate.", Phase.BEHAVIORAL),
        (Speaker.CANDIDATE, CONFLICT, Phase.BEHAVIORAL),
        *[(Speaker.CANDIDATE, t, Phase.BEHAVIORAL) for t in extra_turns],
    ]
    turns = [Turn(index=i, speaker=s, text=t, phase=p, started_at=i * 30.0, ended_at=i * 30.0 + 25,
                  metrics=TurnMetrics(e2e_latency=0.8 + i / 10) if s is Speaker.AGENT else
                  TurnMetrics(transcription_delay=0.2, end_of_turn_delay=0.4))
             for i, (s, t, p) in enumerate(texts)]
    return InterviewRecord(
        interview_id=interview_id, candidate_name=candidate_name, role="backend", position="Backend Developer",
        level=Level.MID, started_at=STARTED, duration_seconds=21 * 60, end_reason="completed", turns=turns,
        questions=[AskedQuestionDetail(
            id="be-mid-tech-ratelimit", phase=Phase.TECHNICAL,
            text="How would you design a rate limiter for a public API?",
            expected_points=["token or leaky bucket", "shared state across nodes", "behaviour when the store fails"],
            rubric={1: "no workable design", 5: "a design with gaps", 10: "complete, with failure modes"})],
        phases=[PhaseTime(phase=Phase.INTRODUCTION, budget_seconds=120, used_seconds=100, questions=["gen-intro"]),
                PhaseTime(phase=Phase.TECHNICAL, budget_seconds=360, used_seconds=420,
                          questions=["be-mid-tech-ratelimit"]),
                PhaseTime(phase=Phase.BEHAVIORAL, budget_seconds=240, used_seconds=200, questions=["gen-beh"])],
        warnings=list(warnings), bank_version="backend@v1+abc", config_hash="cfg123",
    )


def judge_json(scores: Mapping[Dimension, int] | int = 7, *,
               quotes: Mapping[Dimension, list[tuple[int, str]]] | None = None,
               red_flags: Sequence[tuple[str, list[tuple[int, str]]]] = (),
               extra: Mapping[str, Any] | None = None) -> str:
    """A judge reply: scores per dimension (or one for all), quotes per dimension (default: the good ones)."""
    per = {d: scores for d in Dimension} if isinstance(scores, int) else scores
    quoted = quotes if quotes is not None else {d: [q] for d, q in GOOD_QUOTES.items()}
    body: dict[str, Any] = {
        d.value: {"rationale": f"{d.value} rationale", "score": per[d],
                  "evidence": [{"turn": t, "quote": q} for t, q in quoted.get(d, [])]}
        for d in Dimension
    }
    body |= {"strengths": ["clear system design"], "weaknesses": ["little testing talk"],
             "red_flags": [{"description": desc, "evidence": [{"turn": t, "quote": q} for t, q in ev]}
                           for desc, ev in red_flags],
             "summary": "A solid backend candidate."}
    body |= dict(extra or {})
    return json.dumps(body)


def scripted(*texts: str) -> Callable[[dict[str, Any]], Reply]:
    """A responder answering `texts` in turn, then repeating the last one."""
    queue = list(texts)

    def respond(body: dict[str, Any]) -> Reply:
        return Reply(text=queue.pop(0) if len(queue) > 1 else queue[0])

    return respond


def endpoint_for(server: ScriptedOpenAI) -> ModelEndpoint:
    return ModelEndpoint(server.base_url, "test-key", "judge-model")


def fast_settings(**overrides: Any) -> EvaluationSettings:
    """Backoff off, through settings (no patched sleeps), so retry tests take milliseconds."""
    return EvaluationSettings(**{"backoff_seconds": 0, "max_attempts": 3, **overrides})


def write_config(folder: Path, *, judge_url: str | None, store_url: str, **evaluation: Any) -> Path:
    """The shipped config.yaml with the local profile's judge on `judge_url` (None: the profile's own llama.cpp
    model), the store on `store_url`, reports in `folder/evaluations` and fast retries; for running `sima` as a
    subprocess."""
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config["profile"] = "local"
    if judge_url:
        config["profiles"]["local"]["judge"] = {"provider": "openai", "base_url": judge_url, "model": "judge-model"}
    config["storage"] = {"url": store_url}
    config["evaluation"] |= {"backoff_seconds": 0, "output_dir": str(folder / "evaluations"), **evaluation}
    config["paths"] |= {"question_banks": str(ROOT / "question_banks"),
                        "prompt_templates": str(ROOT / "prompt_templates"),
                        "cache": str(ROOT / config["paths"]["cache"])}  # joined weights are shared, not re-joined
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


async def run_sima(config: Path, *args: str, timeout: float = 60, env: Mapping[str, str] | None = None
                   ) -> tuple[int, str]:
    """`python -m sima -c config ARGS` in a subprocess (environment: ours, or `env`); exit code and output."""
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "sima", "-c", str(config), *args, cwd=ROOT,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
                                                env={**(os.environ if env is None else env), "COLUMNS": "200"})
    out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode or 0, out.decode()
