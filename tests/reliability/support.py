"""Running real `sima` processes against a scripted model server: a config for them, and a typed candidate that
answers whatever the agent says until told to stop — or until the test kills the process."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import ROOT

ACK = "Thank you, that's helpful."
# two or three questions per phase, so a whole typed interview takes about fifteen answers
SHORT_INTERVIEW = {"phases": {
    "introduction": {"minutes": 2, "min_questions": 2, "max_questions": 2},
    "experience": {"minutes": 4, "min_questions": 3, "max_questions": 3},
    "technical": {"minutes": 6, "min_questions": 3, "max_questions": 3},
    "behavioral": {"minutes": 4, "min_questions": 2, "max_questions": 2},
    "scenario": {"minutes": 4, "min_questions": 2, "max_questions": 2},
    "wrap_up": {"minutes": 2, "min_questions": 1, "max_questions": 2}}}


def write_config(tmp_path: Path, llm_url: str, *, judge_url: str | None = None, **sections: Any) -> Path:
    """config.yaml as shipped, on a guided verbatim profile whose model (and judge, unless `judge_url`) is the
    scripted server, with storage, runs and reports under tmp_path; `sections` update top-level sections."""
    data = yaml.safe_load((ROOT / "config.yaml").read_text())
    data["profiles"]["scripted"] = {
        "stt": {"provider": "openai-compatible", "base_url": llm_url, "model": "whisper-1"},
        "llm": {"provider": "openai-compatible", "base_url": llm_url, "model": "scripted-model"},
        "tts": {"provider": "openai-compatible", "base_url": llm_url, "model": "tts-1", "voice": "coral"},
        "judge": {"provider": "openai-compatible", "base_url": judge_url or llm_url, "model": "judge-model"},
        "guided": True, "phrasing": "verbatim",
    }
    data["profile"] = "scripted"
    data["interview"] = SHORT_INTERVIEW
    data["storage"] = {"url": f"sqlite:///{tmp_path / 'sima.db'}"}
    data["paths"] = {"question_banks": str(ROOT / "question_banks"), "prompt_templates": str(ROOT / "prompt_templates"),
                     "personas": str(ROOT / "personas"), "runs": str(tmp_path / "runs"),
                     "cache": str(tmp_path / "cache")}
    data["evaluation"] = {**data.get("evaluation", {}), "output_dir": str(tmp_path / "evaluations")}
    data["metrics"] = {"port": None}
    data["evaluation_worker"] = {"poll_seconds": 0.2}
    for name, value in sections.items():  # a mapping updates its section, anything else replaces it
        data[name] = {**data[name], **value} if isinstance(value, dict) and isinstance(data.get(name), dict) else value
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIMA_", "LIVEKIT_", "OPENAI_"))}
    return {**env, "COLUMNS": "1000", **extra}


async def start_sima(config: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sima", "-c", str(config), *args, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=clean_env(), cwd=str(ROOT))


async def spawn(config: Path, log: Path, *args: str, env: dict[str, str] | None = None
                ) -> asyncio.subprocess.Process:
    """`sima ARGS` in the background (with `env` added to a clean environment), its output going to `log`."""
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "sima", "-c", str(config), *args, stdin=asyncio.subprocess.DEVNULL, stdout=out,
            stderr=asyncio.subprocess.STDOUT, env=clean_env(**(env or {})), cwd=str(ROOT))


async def wait_for(predicate: Any, timeout: float, *, every: float = 0.1, what: str = "condition") -> None:
    """Poll `predicate()` until it is true; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(every)


@dataclass
class Candidate:
    """Types the next unused answer after each line the agent says; remembers what was said and seen."""

    answers: list[str]
    seen: list[str] = field(default_factory=list)  # agent lines printed, over every run
    sent: list[str] = field(default_factory=list)  # answers typed, over every run
    # answers followed, in the same run, by an agent line: the agent heard them
    heard: list[str] = field(default_factory=list)

    def next_answer(self) -> str:
        return self.answers[len(self.sent)] if len(self.sent) < len(self.answers) else f"Extra answer {len(self.sent)}."

    async def converse(self, proc: asyncio.subprocess.Process, *, stop_after: int | None = None) -> str:
        """Answer until the process ends ('ended') or `stop_after` answers were typed in this run ('stopped')."""
        assert proc.stdout is not None and proc.stdin is not None
        typed = 0
        pending: str | None = None
        while True:
            raw = await asyncio.wait_for(proc.stdout.readline(), 60)
            if not raw:
                return "ended"
            line = raw.decode().rstrip("\n")
            if not line.startswith("SIMA: "):
                continue
            self.seen.append(line.removeprefix("SIMA: "))
            if pending is not None:
                self.heard.append(pending)
                pending = None
            if stop_after is not None and typed >= stop_after:
                return "stopped"
            answer = self.next_answer()
            self.sent.append(answer)
            pending = answer
            typed += 1
            proc.stdin.write(f"{answer}\n".encode())
            await proc.stdin.drain()
            if stop_after is not None and typed >= stop_after:
                return "stopped"
