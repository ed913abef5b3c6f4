"""Shared fixtures: the shipped banks and templates, and synthetic banks for engine rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.banks import BankSet, load_banks
from engine.prompts import PromptLibrary
from engine.settings import InterviewSettings
from tests.factories import make_banks

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def shipped_banks() -> BankSet:
    return load_banks(ROOT / "question_banks")


@pytest.fixture(scope="session")
def prompts() -> PromptLibrary:
    return PromptLibrary(ROOT / "prompt_templates")


@pytest.fixture
def banks() -> BankSet:
    return make_banks()


@pytest.fixture
def settings() -> InterviewSettings:
    return InterviewSettings()
