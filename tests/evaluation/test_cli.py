"""`sima evaluate` and `sima evaluations pending|retry` as a user runs them: subprocesses, a scripted judge on
127.0.0.1 in place of the local profile's model, a real database."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pipeline.registry import ProviderError
from pipeline.settings import ProviderSpec
from sima.services import remote_endpoint
from storage.models import JobStatus
from storage.store import Store
from tests.evaluation.chat_history_sample import chat_history
from tests.evaluation.helpers import answer_json, generous_reply, run_sima, scripted, write_config
from tests.support.openai_server import ScriptedOpenAI


@pytest.fixture
async def judge() -> AsyncIterator[ScriptedOpenAI]:
    async with ScriptedOpenAI(generous_reply) as server:
        yield server


@pytest.fixture
def history(tmp_path: Path) -> Path:
    path = tmp_path / "p_64yg1tqalc3_RM_DNxSHzpBpqtT_chat_history.json"
    path.write_text(json.dumps(chat_history()))
    return path


async def test_evaluate_a_chat_history_writes_both_reports(judge: ScriptedOpenAI, history: Path, store_url: str,
                                                           store: Store, tmp_path: Path) -> None:
    config = write_config(tmp_path, judge_url=judge.base_url, store_url=store_url)
    out = tmp_path / "out"
    code, output = await run_sima(config, "evaluate", str(history), "--out", str(out))
    assert code == 0, output
    [json_path] = out.glob("*.json")
    [html_path] = out.glob("*.html")
    assert json_path.stem == html_path.stem and json_path.name.startswith("Aman_Verma_AI_ML_Engineer_2")
    data = json.loads(json_path.read_text())
    assert data["metadata"]["candidate_name"] == "Aman Verma" and data["metadata"]["position"] == "AI/ML Engineer"
    # every question gets its own score, against its phase's generic rubric (none of them is worded as a bank's)
    questions = data["per_question"]
    assert [(q["phase"], q["rubric"], q["status"]) for q in questions] == [
        ("introduction", "phase", "scored"), ("technical", "phase", "scored"), ("behavioral", "phase", "scored")]
    assert all(q["score"] is not None and q["points"] for q in questions)
    assert questions[1]["answer_excerpt"].startswith("I would compare the feature distributions")
    assert len(judge.requests) == 3 and judge.requests[0]["model"] == "judge-model"
    # two minutes and three phases is too little to decide on
    assert data["recommendation"]["decision"] == "Incomplete" and data["recommendation"]["incomplete"]
    assert data["ratings"]["culture_fit"] is not None and data["ratings"]["problem_solving"] is not None
    assert data["judge"]["calls"] == 3 and data["metadata"]["config_hash"]
    assert "Aman Verma" in output and "Incomplete" in output and str(json_path.name) in output.replace("\n", "")
    [evaluation] = store.evaluations(data["metadata"]["interview_id"])
    assert Path(evaluation.json_path) == json_path

    # evaluating the same file again is a new evaluation of the same interview, not a second job
    code, output = await run_sima(config, "evaluate", str(history), "--out", str(out))
    assert code == 0, output
    assert len(store.evaluations(data["metadata"]["interview_id"])) == 2 and len(list(out.glob("*.json"))) == 2


async def test_a_failing_judge_leaves_the_job_listed_as_pending(judge: ScriptedOpenAI, history: Path,
                                                                store_url: str, tmp_path: Path) -> None:
    judge.responder = scripted("Sure! Here is my evaluation: the candidate is great.")
    config = write_config(tmp_path, judge_url=judge.base_url, store_url=store_url, max_attempts=2)
    code, output = await run_sima(config, "evaluate", str(history))
    assert code == 1 and "reply is not JSON" in output and "sima evaluations retry" in output
    calls = len(judge.requests)  # the first answer's 2 attempts, and any other answer's calls meanwhile
    assert calls >= 2

    code, output = await run_sima(config, "evaluations", "pending", "--json")
    assert code == 0, output
    [job] = json.loads(output[output.index("[\n"):])  # run_sima merges stderr's log lines into the output
    assert (job["status"], job["candidate_name"], job["attempts"]) == ("failed", "Aman Verma", calls)
    assert "not JSON" in job["last_error"]
    code, table = await run_sima(config, "evaluations", "pending")
    assert "failed" in table and "Aman Verma" in table

    judge.responder = scripted(answer_json(8))
    code, output = await run_sima(config, "evaluations", "retry")
    assert code == 0, output
    assert "requeued 1 failed job(s)" in output and "Incomplete" in output
    code, output = await run_sima(config, "evaluations", "pending")
    assert "no pending evaluations" in output
    assert len(list((tmp_path / "evaluations").glob("*.html"))) == 1


async def test_a_missing_api_key_is_named_and_the_job_kept(history: Path, store_url: str, store: Store,
                                                           tmp_path: Path) -> None:
    config = write_config(tmp_path, judge_url="http://127.0.0.1:9/v1", store_url=store_url)
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"} | {"SIMA_PROFILE": "openai"}
    code, output = await run_sima(config, "evaluate", str(history), env=env)
    assert code == 1 and "profiles.openai.llm[0]" in output and "set $OPENAI_API_KEY" in output
    [job] = store.pending_jobs()
    assert job.status is JobStatus.FAILED and "OPENAI_API_KEY" in (job.last_error or "")


def test_remote_endpoints() -> None:
    spec = ProviderSpec(provider="openai", model="gpt-4o", api_key_env="MY_KEY")
    assert remote_endpoint(spec, "profiles.x.judge", {"MY_KEY": "sk-1"}).api_key == "sk-1"
    with pytest.raises(ProviderError, match=r"profiles\.x\.judge: .* set \$MY_KEY"):
        remote_endpoint(spec, "profiles.x.judge", {})
    local = remote_endpoint(ProviderSpec(provider="openai", model="m", base_url="http://127.0.0.1:8000/v1"), "s", {})
    assert (local.base_url, local.schema_style) == ("http://127.0.0.1:8000/v1", "json_schema")
    with pytest.raises(ProviderError, match="needs a model"):
        remote_endpoint(ProviderSpec(provider="openai"), "s", {"OPENAI_API_KEY": "k"})


@pytest.mark.local_models
async def test_evaluate_with_the_real_local_profile(history: Path, tmp_path: Path) -> None:
    """The embedded default: llama.cpp with the 1.5B model as the judge, started and stopped by `sima evaluate`."""
    config = write_config(tmp_path, judge_url=None, store_url=f"sqlite:///{tmp_path / 'sima.db'}")
    out = tmp_path / "out"
    code, output = await run_sima(config, "evaluate", str(history), "--out", str(out), timeout=900)
    assert code == 0, output
    [json_path], [html_path] = list(out.glob("*.json")), list(out.glob("*.html"))
    data = json.loads(json_path.read_text())
    assert data["metadata"]["judge_model"] == "qwen2.5-coder-1.5b"
    assert data["recommendation"]["decision"] == "Incomplete"  # a two-minute chat history
    assert all(q["score"] is not None for q in data["per_question"]) and len(data["per_question"]) == 3
    assert "<svg" in html_path.read_text() and "llama server" in output
