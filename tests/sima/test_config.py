"""config.yaml: typed, overridable from the environment, and every problem reported at once with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.yamlsrc import SourceError
from sima.config import load_config
from tests.conftest import ROOT

CONFIG = (ROOT / "config.yaml").read_text()


def broken(tmp_path: Path, *edits: tuple[str, str]) -> list[str]:
    text = CONFIG
    for old, new in edits:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(SourceError) as exc:
        load_config(path, env={})
    return [str(p) for p in exc.value.problems]


def line_of(needle: str) -> int:
    return next(i for i, line in enumerate(CONFIG.splitlines(), 1) if needle in line)


def test_shipped_config_loads_with_defaults_inside_the_window():
    cfg = load_config(ROOT / "config.yaml", env={})
    assert cfg.profile == "local"
    assert 20 * 60 <= cfg.interview.planned_total_seconds <= 25 * 60
    assert sum(cfg.evaluation.weights.values()) == pytest.approx(1.0)
    assert cfg.judge_samples == 1
    assert load_config(ROOT / "config.yaml", env={"SIMA_PROFILE": "openai"}).judge_samples == 3


def test_every_problem_reported_at_once_with_file_and_line(tmp_path):
    problems = broken(
        tmp_path,
        ("follow_up_cap: 2", "follow_up_cap: two"),
        ("technical_competency: 0.35", "technical_competency: 0.5"),
        ("stt: {provider: local-whisper, model: tiny.en}", "stt: {provider: local-whisper, modle: tiny.en}"),
    )
    path = tmp_path / "config.yaml"
    assert problems == [
        f"{path}:{line_of('provider: local-whisper')}: profiles.local.stt[0].modle: unknown key",
        f"{path}:{line_of('follow_up_cap')}: interview.follow_up_cap: "
        "Input should be a valid integer, unable to parse string as an integer",
        f"{path}:{line_of('  weights:')}: evaluation.weights: weights must sum to 1 (they sum to 1.15)",
    ]


def test_phase_minutes_must_fit_the_window(tmp_path):
    [problem] = broken(tmp_path, ("technical:    {minutes: 6,", "technical:    {minutes: 12,"))
    assert "add up to 28, outside the 20–25 minute window" in problem
    assert problem.startswith(f"{tmp_path / 'config.yaml'}:{line_of('interview:')}: interview:")


def test_yaml_syntax_error(tmp_path):
    [problem] = broken(tmp_path, ("profile: local", "profile: [local"))
    assert problem.startswith(f"{tmp_path / 'config.yaml'}:") and "YAML syntax error" in problem


def test_env_overrides_apply_and_are_named_in_errors():
    cfg = load_config(ROOT / "config.yaml", env={"SIMA_STORAGE__URL": "sqlite:///x.db",
                                                 "SIMA_INTERVIEW__FOLLOW_UP_CAP": "1"})
    assert cfg.storage.url == "sqlite:///x.db" and cfg.interview.follow_up_cap == 1
    with pytest.raises(SourceError) as exc:
        load_config(ROOT / "config.yaml", env={"SIMA_PROFILE": "nope"})
    assert [str(p) for p in exc.value.problems] == [
        "$SIMA_PROFILE: profile: profile 'nope' is not defined; known: deepgram, local, openai"
    ]


def test_sima_config_env_selects_the_file(tmp_path):
    path = tmp_path / "other.yaml"
    path.write_text(CONFIG.replace("agent_name: sima-interviewer", "agent_name: other-agent"))
    assert load_config(env={"SIMA_CONFIG": str(path)}).agent_name == "other-agent"


def test_fingerprint_changes_with_config():
    a = load_config(ROOT / "config.yaml", env={})
    b = load_config(ROOT / "config.yaml", env={"SIMA_INTERVIEW__GRACE_SECONDS": "30"})
    assert a.fingerprint() != b.fingerprint()


def test_the_simulated_candidate_model_defaults_to_the_judge_then_the_llm():
    from sima.services import candidate_spec, judge_spec

    local = load_config(ROOT / "config.yaml", env={})
    assert candidate_spec(local) == (local.active_profile.candidate, "profiles.local.candidate")
    unset = load_config(ROOT / "config.yaml", env={"SIMA_PROFILES__LOCAL__CANDIDATE": "null"})
    assert candidate_spec(unset) == judge_spec(unset) == (unset.active_profile.judge, "profiles.local.judge")
    cloud = load_config(ROOT / "config.yaml", env={"SIMA_PROFILE": "openai"})
    assert candidate_spec(cloud) == (cloud.active_profile.llm[0], "profiles.openai.llm[0]")
