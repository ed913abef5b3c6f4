"""An interview record to evaluate (over the shipped banks' questions) and judge replies to script, shared by the
evaluation tests."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from engine.banks import BankSet, load_banks
from engine.phases import Level, Phase
from engine.prompts import PromptLibrary
from engine.transcript import AskedQuestionDetail, InterviewRecord, PhaseTime, Speaker, Turn, TurnMetrics
from evaluation.aggregate import Assessment, assess
from evaluation.answers import AnswerResult, judged, needs_judge, unjudged
from evaluation.exchanges import split
from evaluation.features import overlap
from evaluation.judge import AnswerJudgement, ModelEndpoint
from evaluation.prompt import answer_messages
from evaluation.settings import EvaluationSettings
from tests.support.openai_server import Reply, ScriptedOpenAI

ROOT = Path(__file__).resolve().parents[2]
PROMPTS = PromptLibrary(ROOT / "prompt_templates")
STARTED = datetime(2026, 1, 23, 14, 30, 52, tzinfo=UTC)

INTRO = "Hi, I'm Priya Sharma. I have been a backend developer for five years, mostly Python and Postgres."
RATE_LIMIT = ("I would use a token bucket per API key. The counters live in Redis with an atomic Lua script, so "
              "every server shares them. Over the limit we return 429 with a Retry-After header. If Redis is down we "
              "fail open for a minute and alert.")
INCIDENT = ("A deploy of mine broke balances in the mobile app for 40 minutes. I rolled back first and posted updates "
            "every 15 minutes. The root cause was a missing contract test, so I added it and made canaries "
            "mandatory.")
DB_CPU = ("I would look at pg_stat_statements for the top queries and fix missing indexes and N plus one patterns. "
          "Reports that run at peak can move to a replica. Scaling up is fine as a stopgap with a capacity plan.")
EXPERIENCE = ("I led the payouts API rewrite. p99 latency was 2 seconds at month end; traces showed one Postgres "
              "query, I added a partial index and keyset pagination and p99 fell to 180 milliseconds.")
IDEMPOTENCY = ("The client sends an idempotency key. I store the key and the response with a unique constraint, and "
               "a retry with the same key gets the stored response.")
WRAP = "How does the team split on-call?"

# (question id in the shipped banks, phase, the candidate's answer)
EXCHANGES: list[tuple[str, Phase, str]] = [
    ("gen-common-intro-01", Phase.INTRODUCTION, INTRO),
    ("be-mid-exp-02", Phase.EXPERIENCE, EXPERIENCE),
    ("be-mid-tech-06", Phase.TECHNICAL, RATE_LIMIT),
    ("be-mid-tech-02", Phase.TECHNICAL, IDEMPOTENCY),
    ("be-beh-01", Phase.BEHAVIORAL, INCIDENT),
    ("be-mid-scen-02", Phase.SCENARIO, DB_CPU),
    ("gen-common-wrap-01", Phase.WRAP_UP, WRAP),
]


def make_record(interview_id: str = "iv-1", *, candidate_name: str | None = "Priya Sharma",
                answers: Sequence[str] | None = None, exchanges: int | None = None, extra_turns: Sequence[str] = (),
                warnings: Sequence[str] = (), seconds_per_turn: float = 30.0) -> InterviewRecord:
    """A backend interview over the shipped banks' questions: every phase, one answer each (or the first
    `exchanges`), the candidate's words replaceable through `answers`; `extra_turns` follow the last answer."""
    banks = shipped()
    chosen = EXCHANGES[:exchanges] if exchanges is not None else EXCHANGES
    said = list(answers) if answers is not None else [a for _, _, a in chosen]
    texts: list[tuple[Speaker, str, Phase, str]] = []
    for (qid, phase, _), answer in zip(chosen, said, strict=True):
        question = banks.question(qid)
        assert question is not None
        texts += [(Speaker.AGENT, question.text, phase, qid), (Speaker.CANDIDATE, answer, phase, qid)]
    texts += [(Speaker.CANDIDATE, t, texts[-1][2], texts[-1][3]) for t in extra_turns]
    turns = [Turn(index=i, speaker=s, text=t, phase=p, question_id=q, started_at=i * seconds_per_turn,
                  ended_at=i * seconds_per_turn + seconds_per_turn * 0.8,
                  metrics=TurnMetrics(e2e_latency=0.8 + i / 10) if s is Speaker.AGENT else
                  TurnMetrics(transcription_delay=0.2, end_of_turn_delay=0.4))
             for i, (s, t, p, q) in enumerate(texts)]
    asked = {q for _, _, _, q in texts}
    questions = []
    for qid, phase, _ in chosen:
        q = banks.question(qid)
        if q is not None and qid in asked:
            questions.append(AskedQuestionDetail(id=qid, phase=phase, text=q.text, expected_points=q.expected_points,
                                                 rubric=q.rubric))
    return InterviewRecord(
        interview_id=interview_id, candidate_name=candidate_name, role="backend", position="Backend Developer",
        level=Level.MID, started_at=STARTED, duration_seconds=len(turns) * seconds_per_turn,
        end_reason="completed", turns=turns, questions=questions,
        phases=[PhaseTime(phase=p, budget_seconds=240, used_seconds=2 * seconds_per_turn, questions=[q])
                for q, p, _ in chosen],
        warnings=list(warnings), bank_version="backend@v1+abc", config_hash="cfg123",
    )


_BANKS: list[BankSet] = []


def shipped() -> BankSet:
    """The shipped question banks, loaded once."""
    if not _BANKS:
        _BANKS.append(load_banks(ROOT / "question_banks"))
    return _BANKS[0]


def answer_json(score: int = 7, *, points: Sequence[tuple[int, str, str]] = (),
                misconceptions: Sequence[tuple[int, str]] = (), why: str = "a reason",
                extra: Mapping[str, Any] | None = None) -> str:
    """One answer's judgement: points as (n, quote, status), misconceptions as (n, quote)."""
    body: dict[str, Any] = {"points": [{"n": n, "quote": q, "status": s} for n, q, s in points],
                            "misconceptions": [{"n": n, "quote": q} for n, q in misconceptions],
                            "why": why, "score": score}
    return json.dumps(body | dict(extra or {}))


def generous_reply(body: dict[str, Any], score: int = 8) -> Reply:
    """A judge that marks every expected point covered, quoting the answer's sentence that shares most words with
    it (code then keeps only quotes about their point), and gives `score`."""
    user = body["messages"][-1]["content"]
    answer = prompt_answer(body)
    sentences = [x for x in re.split(r"(?<=[.!?])\s+", answer) if x.strip()]
    block = re.search(r"^Expected points:\n((?:\d+\. .*\n?)+)", user, re.MULTILINE)
    points = [line.split(". ", 1)[1] for line in block.group(1).strip().splitlines()] if block else []
    out = []
    for n, point in enumerate(points, 1):
        best = max(sentences, key=lambda x: overlap(point, x), default="")
        out.append((n, " ".join(best.split()[:12]), "covered"))
    return Reply(text=answer_json(score, points=out))


def prompt_answer(body: dict[str, Any]) -> str:
    """The candidate's answer as the judge was sent it."""
    user = body["messages"][-1]["content"]
    return str(json.loads(user.split("Candidate's answer: ", 1)[1].strip()))


def answers_of(record: InterviewRecord, samples: int = 1) -> list[AnswerResult]:
    """Every exchange judged by a generous judge (every point covered, anchored 8), `samples` times."""
    out = []
    for ex in split(record, shipped()):
        if not needs_judge(ex, EvaluationSettings().answers):
            out.append(unjudged(ex, EvaluationSettings().answers))
            continue
        reply = generous_reply({"messages": answer_messages(PROMPTS, record, ex)}).text
        judgement = AnswerJudgement.model_validate_json(reply or "")
        out.append(judged(ex, [judgement] * samples, EvaluationSettings().answers))
    return out


def assessed(record: InterviewRecord, settings: EvaluationSettings | None = None) -> Assessment:
    return assess(answers_of(record), settings or EvaluationSettings(), record, samples=1)


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
