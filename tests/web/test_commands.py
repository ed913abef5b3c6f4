"""`sima users` and `sima invite`, run as a user would: a subprocess, the password on standard input."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from storage.store import Store
from tests.web.support import ROOT, write_config
from web.auth import verify_password
from web.repo import find_user, invitation_by_secret


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path, "http://127.0.0.1:9/v1")  # no model is called


def sima(config: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sima", "-c", str(config), *args], input=stdin, text=True,
                          capture_output=True, cwd=ROOT, timeout=120, env={**os.environ, "COLUMNS": "200"})


def store_of(config: Path) -> Store:
    return Store(f"sqlite:///{config.parent / 'sima.db'}")


def test_users_add_reads_the_password_from_stdin(config: Path) -> None:
    added = sima(config, "users", "add", "ada", stdin="correct horse battery\n")
    assert added.returncode == 0, added.stderr
    user = find_user(store_of(config), "ada")
    assert user is not None and user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, "correct horse battery")
    again = sima(config, "users", "add", "ada", stdin="another long password\n")
    assert again.returncode == 1 and "exists already" in again.stderr
    short = sima(config, "users", "add", "bob", stdin="short\n")
    assert short.returncode == 1 and "at least 10 characters" in short.stderr
    assert sima(config, "users", "list").stdout.split() == ["ada"]


def test_invite_prints_a_single_use_link_with_the_preset(config: Path) -> None:
    made = sima(config, "invite", "--name", "Ada Lovelace", "--role", "Backend Developer", "--seniority", "senior",
                "--mode", "text", "--expires", "72h")
    assert made.returncode == 0, made.stderr
    link = made.stdout.strip()
    assert re.fullmatch(r"http://127\.0\.0\.1:8000/i/[\w-]{43}", link)
    inv = invitation_by_secret(store_of(config), link.rsplit("/", 1)[1])
    assert inv is not None and (inv.candidate_name, inv.role, inv.level, inv.mode) == \
        ("Ada Lovelace", "backend", "senior", "text")
    assert 71.9 * 3600 < (inv.expires_at - inv.created_at).total_seconds() <= 72 * 3600


def test_invite_names_what_is_wrong(config: Path) -> None:
    made = sima(config, "invite", "--name", "Ada", "--role", "astronaut", "--seniority", "mid", "--expires", "90d")
    assert made.returncode == 1 and made.stdout == ""
    assert "expires: Value error, 90d is outside (0, 30d]" in made.stderr
