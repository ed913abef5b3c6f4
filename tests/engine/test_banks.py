"""Bank loading: a broken bank never half-loads, and every problem names its file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.banks import load_banks
from engine.yamlsrc import SourceError
from tests.conftest import ROOT

GOOD_Q = """      - id: {id}
        text: Tell me about a time you shipped something.
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / name).write_text(text)
    return tmp_path


def generic(extra: str = "") -> str:
    return "role: generic\nname: General\ncommon:\n  introduction:\n" + GOOD_Q.format(id="g-1") + extra


def problems(tmp_path: Path) -> list[str]:
    with pytest.raises(SourceError) as exc:
        load_banks(tmp_path)
    return [str(p) for p in exc.value.problems]


def test_shipped_banks_load(shipped_banks):
    assert shipped_banks.bank("backend").name == "Backend Developer"
    assert len(shipped_banks.fingerprint) == 64


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    write(tmp_path, "generic.yaml", generic())
    write(tmp_path, "broken.yaml", "role: broken\nname: [unclosed\n")
    assert problems(tmp_path) == [f"{tmp_path}/broken.yaml:3: YAML syntax error: expected ',' or ']', but got "
                                  "'<stream end>'"]


def test_unknown_key_points_at_the_key(tmp_path):
    write(tmp_path, "generic.yaml", generic("        colour: red\n"))
    assert problems(tmp_path) == [f"{tmp_path}/generic.yaml:7: common.introduction[0].colour: unknown key"]


def test_duplicate_ids_across_files(tmp_path):
    write(tmp_path, "generic.yaml", generic())
    write(tmp_path, "other.yaml", "role: other\nname: Other\ncommon:\n  technical:\n" + GOOD_Q.format(id="g-1"))
    [p] = problems(tmp_path)
    first = f"{tmp_path}/generic.yaml:5"
    assert p.startswith(f"{tmp_path}/other.yaml:5: id: duplicate question id 'g-1' (first in {first})")


def test_unknown_phase_and_level(tmp_path):
    write(tmp_path, "generic.yaml", generic("  tecnical: []\nlevels:\n  expert: {}\n"))
    ps = problems(tmp_path)
    assert ps[0].startswith(f"{tmp_path}/generic.yaml:7: common.tecnical: Input should be 'introduction'")
    assert ps[1].startswith(f"{tmp_path}/generic.yaml:9: levels.expert: Input should be 'fresher'")


def test_empty_text(tmp_path):
    write(tmp_path, "generic.yaml", generic().replace("Tell me about a time you shipped something.", '"  "'))
    assert problems(tmp_path) == [f"{tmp_path}/generic.yaml:6: common.introduction[0].text: text must not be empty"]


def test_duplicate_yaml_key(tmp_path):
    write(tmp_path, "generic.yaml", generic() + "name: Again\n")
    assert problems(tmp_path) == [f"{tmp_path}/generic.yaml:7: name: duplicate key"]


def test_all_problems_of_all_files_at_once(tmp_path):
    write(tmp_path, "generic.yaml", generic("        colour: red\n"))
    write(tmp_path, "b.yaml", "role: b\nname: ''\n")
    assert len(problems(tmp_path)) == 2


def test_one_broken_shipped_file_fails_the_whole_set(tmp_path):
    target = tmp_path / "banks"
    shutil.copytree(ROOT / "question_banks", target)
    text = (target / "devops.yaml").read_text().replace("difficulty: hard", "difficulty: brutal", 1)
    (target / "devops.yaml").write_text(text)
    [p] = problems(target)
    assert p.startswith(f"{target}/devops.yaml:") and "difficulty" in p


def test_missing_generic_bank(tmp_path):
    write(tmp_path, "x.yaml", "role: x\nname: X\n")
    assert "no 'generic' bank" in problems(tmp_path)[0]


def test_role_matching_prefers_longest_alias(shipped_banks):
    assert shipped_banks.match_role("I'm a React Native developer") == "mobile"
    assert shipped_banks.match_role("full stack developer using MERN") == "fullstack"
    assert shipped_banks.match_role("I make pottery") is None
