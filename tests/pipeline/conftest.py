"""Fixtures for pipeline tests: shipped banks and templates, a short interview plan, a fake clock, a journal."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from livekit.plugins import openai

from engine.banks import BankSet, load_banks
from engine.clock import FakeClock
from engine.phases import Phase
from engine.prompts import PromptLibrary
from engine.settings import InterviewSettings, PhaseSettings
from pipeline.journal import JournalSink
from pipeline.providers import ProviderStack
from pipeline.session import InterviewSetup
from pipeline.settings import ProfileSettings

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"

logging.getLogger("transitions").setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def real_banks() -> BankSet:
    return load_banks(ROOT / "question_banks")


@pytest.fixture(scope="session")
def templates() -> PromptLibrary:
    return PromptLibrary(ROOT / "prompt_templates")


def short_settings() -> InterviewSettings:
    """22 minutes as shipped, but few questions per phase, so a whole interview takes a dozen turns."""
    counts = {Phase.INTRODUCTION: (2, 1), Phase.EXPERIENCE: (4, 2), Phase.TECHNICAL: (6, 2),
              Phase.BEHAVIORAL: (4, 1), Phase.SCENARIO: (4, 1), Phase.WRAP_UP: (2, 1)}
    return InterviewSettings(phases={p: PhaseSettings(minutes=m, min_questions=1, max_questions=n)
                                     for p, (m, n) in counts.items()})


def text_profile(*, guided: bool = False) -> ProfileSettings:
    return ProfileSettings.model_validate({
        "stt": {"provider": "openai"}, "llm": {"provider": "openai"}, "tts": {"provider": "openai"},
        "guided": guided})


def scripted_llm(base_url: str) -> openai.LLM:
    return openai.LLM(base_url=base_url, api_key="test", model="scripted-model")


def text_stack(base_url: str) -> ProviderStack:
    return ProviderStack(llm=scripted_llm(base_url))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def journal(tmp_path: Path) -> JournalSink:
    return JournalSink(tmp_path / "runs")


def make_setup(banks: BankSet, prompts: PromptLibrary, *, guided: bool = False) -> InterviewSetup:
    return InterviewSetup(settings=short_settings(), banks=banks, prompts=prompts, profile=text_profile(guided=guided),
                          config_hash="test-config")
