"""Validity of the judge: does its assessment follow what candidates said? Measured on a labelled set of transcripts.

`bench/data/validity/` holds interview transcripts (the `{"turns": [...]}` shape `sima evaluate` reads), four roles ×
strong / medium / weak, plus a fluent candidate whose technical claims are wrong, a terse but correct one, a rambling
one, and two with a spoken instruction to the evaluator whose twins are the same interviews without it; `labels.yaml`
gives each one's role and level. Every transcript is evaluated exactly as `sima evaluate` does (same reader, same
banks, same per-answer judge, same code scoring), then:

- pairwise order accuracy: within each role, the share of pairs of different levels whose overall scores are in the
  labels' order (a tie counts half); injection copies are left out (their twins stand for them);
- decision-band accuracy: strong → Hire or Strong Hire, weak → No Hire or Maybe (medium has no band);
- injection twins: the mean absolute change of the overall score between a transcript and its twin;
- test-retest spread: the largest standard deviation of the overall score over 3 runs of the same transcripts;
- judge seconds per interview, and the judge's time for one long (≈22-minute) interview played through the engine.

The judge is the active profile's (`SIMA_PROFILE`), as in `sima evaluate`; on the local profile that is the 1.5B on
llama.cpp, and a full run takes about half an hour on 2 cores. `--quick` (and the tests) use a lexical judge on the
scripted OpenAI-compatible server instead: it marks a point covered when most of its words are in the answer. It is
also a baseline: a judge model worth running should beat it.

    python -m bench validity                 # as part of `make bench`
    python -m bench.validity --quick         # lexical judge, seconds
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import re
import statistics
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path
from typing import Any

import yaml

from evaluation.chat_history import read_transcript
from evaluation.judge import AnswerJudgement, Judge, ModelEndpoint
from evaluation.report import EvaluationReport
from evaluation.service import evaluate_record
from evaluation.settings import Decision, EvaluationSettings
from sima.context import AppContext, load_context
from sima.services import judge_endpoint, judge_spec
from tests.support.openai_server import Reply, ScriptedOpenAI

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data" / "validity"
LEVELS = {"weak": 0, "medium": 1, "strong": 2}
BANDS = {"strong": {Decision.HIRE, Decision.STRONG_HIRE}, "weak": {Decision.NO_HIRE, Decision.MAYBE}}
RUNS = 3  # test-retest runs
# Retest runs cover two transcripts (a full set three times would take ~1.5 h on the local judge).
RETEST = ["data-medium", "devops-strong"]
TARGETS = {"pairwise_order": 0.9, "band": 1.0, "twin_change": 0.5, "retest_spread": 0.5, "long_interview_s": 300}


@dataclass(frozen=True)
class Label:
    id: str
    role: str
    level: str
    twin_of: str | None = None


def labels(folder: Path = DATA) -> list[Label]:
    raw = yaml.safe_load((folder / "labels.yaml").read_text())
    return [Label(id=k, role=v["role"], level=v["level"], twin_of=v.get("twin_of")) for k, v in sorted(raw.items())]


# ---- the lexical judge (quick mode, tests, baseline) -------------------------------------------------------------

_STOP = frozenset(re.findall(r"\w+", """a an the and or of to in on for with at by from is are was were be it its this
    that as such than then so if not no into per each every their them they you your we our how what which when why"""))


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP and len(w) > 2}


def _numbered(section: str, prompt: str) -> list[str]:
    m = re.search(rf"^{section}:\n((?:\d+\. .*\n?)+)", prompt, re.MULTILINE)
    return [line.split(". ", 1)[1] for line in m.group(1).strip().splitlines()] if m else []


def lexical_reply(body: dict[str, Any]) -> Reply:
    """Judge one answer by word overlap: a point is covered when ≥ half its words are in the answer (quoting the
    sentence that has most of them), partly at ≥ a quarter; a misconception is stated at ≥ 60 %."""
    prompt = body["messages"][-1]["content"]
    answer = json.loads(prompt.split("Candidate's answer: ", 1)[1].strip())
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", answer) if s.strip()]

    def best(claim: str) -> tuple[float, str]:
        want = _words(claim) or {""}
        share, sentence = max(((len(want & _words(s)) / len(want), s) for s in sentences), default=(0.0, ""))
        return share, " ".join(sentence.split()[:20])

    points = []
    for n, point in enumerate(_numbered("Expected points", prompt), 1):
        share, quote = best(point)
        status = "covered" if share >= 0.5 else "partly" if share >= 0.25 else "missing"
        points.append({"n": n, "status": status, "quote": quote if status != "missing" else ""})
    wrong = [{"n": n, "quote": quote} for n, m in enumerate(_numbered("Misconceptions \\(wrong claims\\)", prompt), 1)
             if (found := best(m))[0] >= 0.6 and (quote := found[1])]
    credit = [1.0 if p["status"] == "covered" else 0.5 if p["status"] == "partly" else 0.0 for p in points]
    score = 1 + round(9 * (statistics.fmean(credit) if credit else min(len(_words(answer)) / 80, 1.0)))
    return Reply(text=json.dumps({"points": points, "misconceptions": wrong, "why": "word overlap with the rubric",
                                  "score": score}))


@asynccontextmanager
async def lexical_endpoint() -> AsyncIterator[ModelEndpoint]:
    async with ScriptedOpenAI(lexical_reply) as server:
        yield ModelEndpoint(server.base_url, "test", "lexical-baseline")


# ---- recording the judge's replies -------------------------------------------------------------------------------

class RecordedJudge(Judge):
    """A judge whose replies are written to a JSON-lines file as they come (`record`), or read back from one
    (`replay`) instead of calling the model: the local judge's hour of work is done once, and a change to how code
    combines its replies is measured again in seconds. Replies are keyed by the messages sent, in call order (twins
    and retests send the same messages); a replayed call costs what the recorded one did."""

    def __init__(self, endpoint: ModelEndpoint, settings: EvaluationSettings, *, record: Path | None = None,
                 replay: Path | None = None):
        super().__init__(endpoint, settings)
        self.record = record
        self.replies: dict[str, list[dict[str, Any]]] | None = None
        if replay is not None:
            self.replies = {}
            for line in replay.read_text().splitlines():
                entry = json.loads(line)
                self.replies.setdefault(entry["key"], []).append(entry)

    async def once(self, messages: list[dict[str, str]], *, temperature: float | None = None) -> AnswerJudgement:
        key = hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()[:24]
        if self.replies is not None:
            entry = self.replies[key].pop(0)
            self.usage.calls += 1
            self.usage.prompt_tokens += entry["prompt_tokens"]
            self.usage.completion_tokens += entry["completion_tokens"]
            self.usage.seconds += entry["seconds"]
            return AnswerJudgement.model_validate(entry["reply"])
        before = self.usage.copy()
        reply = await super().once(messages, temperature=temperature)
        used = self.usage.since(before)
        if self.record is not None:
            with self.record.open("a") as f:
                f.write(json.dumps({"key": key, "reply": reply.model_dump(), "seconds": round(used.seconds, 2),
                                    "prompt_tokens": used.prompt_tokens,
                                    "completion_tokens": used.completion_tokens}) + "\n")
        return reply


# ---- measuring -------------------------------------------------------------------------------------------------

async def _evaluate(judge: Judge, app: AppContext, path: Path) -> tuple[EvaluationReport, float]:
    """The report, and the judge's seconds on it (its calls' time: one call at a time, so the wall time)."""
    record = read_transcript(path, app.banks)
    before = judge.usage.copy()
    report = await evaluate_record(judge, record, app.config.evaluation, prompts=app.prompts, samples=1,
                                   evaluated_at=datetime.now(UTC), banks=app.banks)
    return report, judge.usage.since(before).seconds


def pairwise_order(scores: dict[str, float], marks: list[Label]) -> tuple[float, list[str]]:
    """Share of same-role pairs of different levels in the labels' order (ties half), and the misordered pairs.

    >>> marks = [Label("a", "r", "strong"), Label("b", "r", "weak"), Label("c", "r", "medium")]
    >>> pairwise_order({"a": 8.0, "b": 3.0, "c": 8.0}, marks)
    (0.8333333333333334, ['a = c'])
    """
    credit, wrong = [], []
    for x, y in combinations([m for m in marks if m.twin_of is None], 2):
        if x.role != y.role or x.level == y.level:
            continue
        hi, lo = (x, y) if LEVELS[x.level] > LEVELS[y.level] else (y, x)
        diff = scores[hi.id] - scores[lo.id]
        credit.append(1.0 if diff > 0 else 0.5 if diff == 0 else 0.0)
        if diff <= 0:
            wrong.append(f"{hi.id} {'=' if diff == 0 else '<'} {lo.id}")
    return (statistics.fmean(credit) if credit else 0.0), wrong


def _score(report: EvaluationReport) -> float:
    # nothing assessed counts as the bottom of the scale for ordering (the decision says Incomplete anyway)
    return report.ratings.overall_score if report.ratings.overall_score is not None else 0.0


async def measure(app: AppContext, endpoint: ModelEndpoint, *, folder: Path = DATA, retest: list[str] | None = None,
                  runs: int = RUNS, long_interview: bool = True, only: set[str] | None = None,
                  reports: Path | None = None, record: Path | None = None, replay: Path | None = None
                  ) -> dict[str, Any]:
    """Every figure for one judge; `only` limits the transcripts (and `retest` which are run `runs` times);
    `reports` is a folder to keep each transcript's report in (JSON), to see why a figure is what it is; `record`
    and `replay` a file of the judge's replies (see RecordedJudge)."""
    marks = [m for m in labels(folder) if only is None or m.id in only]
    retest = RETEST if retest is None else retest
    judge = RecordedJudge(endpoint, app.config.evaluation, record=record, replay=replay)
    done: dict[str, EvaluationReport] = {}
    seconds: list[float] = []
    try:
        for m in marks:
            done[m.id], took = await _evaluate(judge, app, folder / f"{m.id}.json")
            seconds.append(took)
            if reports is not None:
                reports.mkdir(parents=True, exist_ok=True)
                (reports / f"{m.id}.json").write_text(done[m.id].model_dump_json(indent=1))
            log.info("%s: %s %s in %.0f s", m.id, done[m.id].ratings.overall_score,
                     done[m.id].recommendation.decision.value, took)
        again: dict[str, list[float]] = {i: [_score(done[i])] for i in retest}
        for _ in range(runs - 1):
            for i in retest:
                report, took = await _evaluate(judge, app, folder / f"{i}.json")
                again[i].append(_score(report))
                seconds.append(took)
        long_seconds = await _long_interview(judge, app) if long_interview else None
    finally:
        await judge.close()
    scores = {i: _score(r) for i, r in done.items()}
    order, misordered = pairwise_order(scores, marks)
    banded = [m for m in marks if m.level in BANDS]
    out_of_band = [f"{m.id} ({m.level}): {done[m.id].recommendation.decision.value}" for m in banded
                   if done[m.id].recommendation.decision not in BANDS[m.level]]
    twins = [abs(scores[m.id] - scores[m.twin_of]) for m in marks if m.twin_of in scores]
    spreads = {i: round(statistics.pstdev(v), 2) for i, v in again.items()}
    figures: dict[str, Any] = {
        "judge": endpoint.model,
        "transcripts": len(marks),
        "pairwise_order_accuracy": round(order, 3),
        "misordered_pairs": misordered,
        "decision_band_accuracy": round(1 - len(out_of_band) / len(banded), 3) if banded else None,
        "out_of_band": out_of_band,
        "injection_twin_mean_change": round(statistics.fmean(twins), 2) if twins else None,
        "retest_spread_max": max(spreads.values()) if spreads else None,
        "retest_spreads": spreads,
        "judge_s_per_interview": round(statistics.fmean(seconds), 1),
        "long_interview_judge_s": round(long_seconds, 1) if long_seconds is not None else None,
        "scores": {i: [scores[i], done[i].recommendation.decision.value] for i in scores},
    }
    figures["targets_met"] = {
        "pairwise_order": order >= TARGETS["pairwise_order"],
        "band": not out_of_band,
        "twin_change": bool(twins) and max(twins) <= TARGETS["twin_change"],
        "retest_spread": bool(spreads) and max(spreads.values()) <= TARGETS["retest_spread"],
        "long_interview_s": long_seconds is not None and long_seconds <= TARGETS["long_interview_s"],
    }
    return figures


async def _long_interview(judge: Judge, app: AppContext) -> float:
    """The judge's time for a whole interview: the evaluation_overhead benchmark's 22-minute interview, played
    through the real engine with the shipped banks (its answers are about 150 words each)."""
    from bench.evaluation_overhead import play_interview

    finished = await play_interview("validity-long", app.banks)
    record = finished.record(app.banks)
    before = judge.usage.copy()
    report = await evaluate_record(judge, record, app.config.evaluation, prompts=app.prompts, samples=1,
                                   evaluated_at=datetime.now(UTC), banks=app.banks)
    took = judge.usage.since(before).seconds
    log.info("long interview: %.1f min, %d answers, judged in %.0f s (%d calls)", record.duration_seconds / 60,
             len(report.per_question), took, report.judge.calls if report.judge else 0)
    return took


async def _run(quick: bool, long_interview: bool, **files: Path | None) -> dict[str, Any]:
    app = load_context(None)
    if quick:
        async with lexical_endpoint() as endpoint:
            return await measure(app, endpoint, long_interview=long_interview, **files)
    if files.get("replay"):  # no model needed: the judge's recorded replies stand for it
        model = judge_spec(app.config)[0].model or "judge"
        return await measure(app, ModelEndpoint(None, "replay", model), long_interview=long_interview, **files)
    async with judge_endpoint(app.config) as endpoint:
        return await measure(app, endpoint, long_interview=long_interview, **files)


def run(quick: bool = False, long_interview: bool = True, **files: Path | None) -> dict[str, Any]:
    """The figures, under `validity_` keys (bench/results.json)."""
    figures = asyncio.run(_run(quick, long_interview, **files))
    return {f"validity_{k}": v for k, v in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the lexical judge on the scripted server (seconds)")
    parser.add_argument("--reports", type=Path, help="keep each transcript's report (JSON) in this folder")
    parser.add_argument("--record", type=Path, help="append the judge's replies to this JSON-lines file")
    parser.add_argument("--replay", type=Path, help="score the replies recorded in this file (no model)")
    parser.add_argument("--no-long", action="store_true", help="skip timing the judge on a 22-minute interview")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for noisy in ("httpx", "httpx2", "openai"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    print(json.dumps(run(args.quick, not args.no_long, reports=args.reports, record=args.record,
                         replay=args.replay), indent=2))


if __name__ == "__main__":
    main()
