"""A LiveKit chat history built with livekit's own ChatContext and dumped with `to_dict()`, as the seed saved them
(Json_conversation/*_chat_history.json): messages, tool calls and their outputs, a handoff, a system message."""

from __future__ import annotations

from typing import Any

from livekit.agents.llm import ChatContext, FunctionCall, FunctionCallOutput
from livekit.agents.llm.chat_context import AgentHandoff

T0 = 1_769_178_652.0  # 2026-01-23 14:30:52 UTC

CONVERSATION = [
    ("assistant", "Hello, I'm SIMA. Could you introduce yourself and the role you're applying for?"),
    ("user", "Hi! My name is Aman Verma. I'm applying for the machine learning engineer role, "
             "I have four years of experience."),
    ("assistant", "How would you detect data drift in a model that is already in production?"),
    ("user", "I would compare the feature distributions of live traffic against the training set with a "
             "population stability index, and alert when it crosses a threshold."),
    ("assistant", "Tell me about a time you disagreed with a teammate."),
    ("user", "We argued about retraining cadence, so I ran a backtest on both schedules and we went with the data."),
]


def chat_history(*, timestamps: bool = True) -> dict[str, Any]:
    ctx = ChatContext.empty()
    ctx.add_message(role="system", content="You are SIMA, an interviewer.", created_at=T0 - 1)
    for i, (role, text) in enumerate(CONVERSATION):
        msg = ctx.add_message(role=role, content=[text], created_at=T0 + 40 * i)  # type: ignore[arg-type]
        if role == "user":
            msg.metrics = {"transcription_delay": 0.25, "end_of_turn_delay": 0.5,
                           "started_speaking_at": T0 + 40 * i - 30, "stopped_speaking_at": T0 + 40 * i - 2}
        else:
            msg.metrics = {"llm_node_ttft": 0.4, "tts_node_ttfb": 0.2, "e2e_latency": 1.1}
        if i == 1:
            ctx.items.append(FunctionCall(call_id="c1", name="record_profile",
                                          arguments='{"name": "Aman", "role": "ai-ml"}', created_at=T0 + 41))
            ctx.items.append(FunctionCallOutput(call_id="c1", name="record_profile", output="ok", is_error=False,
                                                created_at=T0 + 42))
            ctx.items.append(AgentHandoff(new_agent_id="sima", created_at=T0 + 43))
    return ctx.to_dict(exclude_timestamp=not timestamps)
