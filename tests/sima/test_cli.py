"""The `sima` commands authors and engineers run, exercised as real subprocesses."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

SIMA = [sys.executable, "-m", "sima"]


def sima(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SIMA, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_banks_validate_shipped_banks():
    result = sima("banks", "validate", "question_banks/")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "9 banks" in result.stdout and "valid" in result.stdout


def test_banks_validate_broken_bank_exits_1_naming_file_and_line(tmp_path):
    target = tmp_path / "banks"
    shutil.copytree(ROOT / "question_banks", target)
    lines = (target / "frontend.yaml").read_text().splitlines()
    i = next(n for n, line in enumerate(lines) if line.strip().startswith("- id:"))
    indent = len(lines[i]) - len(lines[i].lstrip()) + 2
    lines.insert(i + 1, " " * indent + "colour: blue")
    (target / "frontend.yaml").write_text("\n".join(lines) + "\n")
    result = sima("banks", "validate", str(target))
    assert result.returncode == 1
    assert f"{target}/frontend.yaml:{i + 2}:" in result.stdout and "colour: unknown key" in result.stdout


def test_banks_lint_and_stats_run():
    lint = sima("banks", "lint")
    assert lint.returncode == 0 and "no findings" in lint.stdout
    stats = sima("banks", "stats")
    assert stats.returncode == 0 and "backend" in stats.stdout


@pytest.mark.parametrize("seconds", ["30", "90"])
def test_plan_simulate_json(seconds):
    result = sima("plan", "--role", "devops", "--seniority", "senior", "--simulate", "--answer-seconds", seconds,
                  "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [p["name"] for p in data["phases"]] == [row["phase"] for row in data["timeline"]]
    # brisk 30-second answers may run out of bank questions a little early (see tests/engine/test_plan.py)
    assert (20 * 60 if seconds == "90" else 15 * 60) <= data["total_seconds"] <= 25 * 60
    assert {"phase", "start_s", "end_s", "questions_asked"} <= set(data["timeline"][0])
    assert all(isinstance(q, str) for p in data["phases"] for q in p["questions"])


def test_plan_unknown_role_is_a_clear_error():
    result = sima("plan", "--role", "astronaut")
    assert result.returncode == 2 and "unknown role 'astronaut'" in result.stderr


def test_prompts_render_shows_phase_and_quotes_the_name():
    result = sima("prompts", "render", "--phase", "technical", "--role", "backend", "--seniority", "junior",
                  "--name", "Robert'); DROP TABLE")
    assert result.returncode == 0, result.stderr
    assert "Current phase: Technical" in result.stdout
    assert '"Robert\'); DROP TABLE"' in result.stdout


def test_bad_config_prevents_start_and_lists_problems(tmp_path):
    bad = tmp_path / "config.yaml"
    bad.write_text((ROOT / "config.yaml").read_text().replace("warning_limit: 3", "warning_limit: 0"))
    result = sima("--config", str(bad), "plan")
    assert result.returncode == 1
    assert f"{bad}:" in result.stderr and "interview.warning_limit" in result.stderr
