"""Everything a command needs, loaded and validated once: config, question banks, prompt templates.

Example::

    >>> ctx = load_context(None)   # doctest: +SKIP
    >>> ctx.banks.bank("backend").name  # doctest: +SKIP
    'Backend Developer'
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from engine.banks import BankSet, load_banks
from engine.prompts import PromptLibrary
from engine.yamlsrc import SourceError
from sima.config import AppConfig, load_config

log = logging.getLogger(__name__)


@dataclass
class AppContext:
    config: AppConfig
    banks: BankSet
    prompts: PromptLibrary


def load_context(config_path: Path | None) -> AppContext:
    """Load config, banks and templates; collect every problem of all three before failing."""
    problems = []
    config = banks = None
    try:
        config = load_config(config_path)
    except SourceError as exc:
        problems.extend(exc.problems)
    if config is not None:
        try:
            banks = load_banks(config.paths.question_banks)
        except SourceError as exc:
            problems.extend(exc.problems)
        prompts = PromptLibrary(config.paths.prompt_templates)
        problems.extend(prompts.check_syntax())
    if problems:
        raise SourceError(problems)
    assert config is not None and banks is not None
    log.debug("loaded config %s, %d banks", config.fingerprint(), len(banks.banks))
    return AppContext(config, banks, prompts)
