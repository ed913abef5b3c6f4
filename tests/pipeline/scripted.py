"""A scripted stand-in for the interviewer LLM, and helpers to read what it was sent.

:class:`ScriptedInterviewer` behaves like a well-behaved model: for each candidate line it calls the tools its plan
says, one per step, then says what the last tool told it to say; asked to speak on an instruction (a greeting, a
time warning, a guided step), it says the instruction. Because it repeats its instructions verbatim, the transcript
shows exactly what the agent was told.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from engine.interview import InterviewEngine
from engine.phases import Phase
from tests.support.openai_server import Reply, Responder, ToolCall

_PHASE = re.compile(r"Current phase: ([\w-]+)")


def system_prompt(body: dict[str, Any]) -> str:
    return str(body["messages"][0]["content"])


def phase_of(body: dict[str, Any]) -> str:
    """The phase the instructions of a request are written for, e.g. 'Technical'."""
    m = _PHASE.search(system_prompt(body))
    assert m, "no phase in the system prompt"
    return m.group(1)


def tools_of(body: dict[str, Any]) -> list[str]:
    return [t["function"]["name"] for t in body.get("tools", [])]


def last_instruction(body: dict[str, Any]) -> str | None:
    """The per-reply instruction appended after the conversation (not the instructions at the top)."""
    msgs = body["messages"]
    return str(msgs[-1]["content"]) if len(msgs) > 1 and msgs[-1]["role"] == "system" else None


@dataclass
class Call:
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass
class ScriptedInterviewer:
    """`plans` maps a candidate line to the tool calls to make in reply; other lines get `default`."""

    plans: dict[str, list[Call]] = field(default_factory=dict)
    default: list[Call] = field(default_factory=lambda: [Call("next_question")])

    def __call__(self, body: dict[str, Any]) -> Reply:
        msgs = body["messages"]
        users = [i for i, m in enumerate(msgs) if m["role"] == "user"]
        after = msgs[users[-1] + 1:] if users else []
        answered = any(m["role"] == "assistant" and m.get("content") for m in after)
        last = msgs[-1]
        if users and not answered and last["role"] != "assistant":
            # a reply to the candidate's turn, possibly after some tool calls
            plan = self.plans.get(str(msgs[users[-1]]["content"]), self.default) if tools_of(body) else []
            done = sum(1 for m in after if m["role"] == "tool")
            if done < len(plan):
                call = plan[done]
                return Reply(tool_calls=[ToolCall(call.name, call.arguments)])
            if last["role"] == "tool":
                return Reply(text=str(last["content"]))
            return Reply(text=last_instruction(body) or "Thank you. Please go on.")
        if last["role"] == "tool":
            return Reply(text=str(last["content"]))
        return Reply(text=last_instruction(body) or "Hello.")


@dataclass
class PhaseWitness:
    """Wraps a responder; notes, for every request, the phase its instructions name and the engine's phase then."""

    responder: Responder
    engine: InterviewEngine | None = None
    seen: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)

    def __call__(self, body: dict[str, Any]) -> Any:
        assert self.engine is not None
        self.seen.append(phase_of(body))
        # after the end, the closing words belong to the wrap-up
        self.expected.append((self.engine.phase or Phase.WRAP_UP).title)
        return self.responder(body)
