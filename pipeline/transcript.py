"""Turns from LiveKit conversation items: who spoke, what, when (interview seconds), in which phase, on which question.

A candidate turn belongs to the question the candidate had heard when they began to answer: the phase and question id
of the last agent turn that started before their speech did and was heard in full. A question the agent began while
they were still answering, or a reply they talked over (interrupted), does not take their answer, unless the agent
counts it as heard after all (:meth:`TranscriptRecorder.heard_after_all`). An answer the
engine reads as a late answer to the question before (the candidate was silent until the interview moved on) is filed
under that question.
Latency figures come from `ChatMessage.metrics`; STT confidence only where the STT gave one (LiveKit reports 0.0 for
providers that have none, which is recorded as unknown).

Example::

    >>> recorder = TranscriptRecorder(engine)                       # doctest: +SKIP
    >>> session.on("conversation_item_added", lambda ev: recorder.capture(ev.item))  # doctest: +SKIP
"""

from __future__ import annotations

import time
from typing import Any

from livekit.agents import llm

from engine.interview import InterviewEngine
from engine.moves import Move
from engine.phases import Phase
from engine.transcript import Speaker, Turn, TurnMetrics

# ChatMessage.metrics key -> TurnMetrics field
_METRICS = {
    "transcription_delay": "transcription_delay",
    "end_of_turn_delay": "end_of_turn_delay",
    "llm_node_ttft": "llm_ttft",
    "tts_node_ttfb": "tts_ttfb",
    "e2e_latency": "e2e_latency",
}


def turn_metrics(metrics: dict[str, Any]) -> TurnMetrics | None:
    """The latency figures of a message, or None when it has none (typed input, for example).

    >>> turn_metrics({"llm_node_ttft": 0.4, "started_speaking_at": 1.0})
    TurnMetrics(transcription_delay=None, end_of_turn_delay=None, llm_ttft=0.4, tts_ttfb=None, e2e_latency=None)
    """
    values = {field: float(metrics[key]) for key, field in _METRICS.items() if metrics.get(key) is not None}
    return TurnMetrics(**values) if values else None


class TranscriptRecorder:
    """Numbers turns on from `previous`, the transcript so far of a resumed interview (none: from 0)."""

    def __init__(self, engine: InterviewEngine, *, previous: list[Turn] | None = None):
        self.engine = engine
        self.turns: list[Turn] = list(previous or [])
        agent_turns = [t for t in self.turns if t.speaker is Speaker.AGENT]
        last = agent_turns[-1] if agent_turns else None
        # what a candidate's words answer: the phase and question of each agent turn heard, with when it started
        # (wall-clock seconds, where LiveKit gave them)
        self._heard: list[tuple[float | None, Phase | None, str | None]] = [
            (None, last.phase, last.question_id) if last else (None, engine.phase, None)]
        self._readings = len(engine.snapshot().answers)  # the engine's readings of turns already filed
        # the last agent turn, if the candidate talked over it
        self._talked_over: tuple[float | None, Phase | None, str | None] | None = None

    def _answering(self, began: float | None) -> tuple[Phase | None, str | None]:
        """The phase and question of the last agent turn heard before `began` (the candidate's first word)."""
        for started, phase, question_id in reversed(self._heard):
            if began is None or started is None or started <= began:
                return phase, question_id
        return self._heard[0][1:]

    def _phase(self) -> Phase | None:
        if self.engine.phase is not None:
            return self.engine.phase
        phases = self.engine.snapshot().phases
        return phases[-1].phase if phases else None  # after the end: the phase the interview ended in

    def capture(self, item: Any) -> Turn | None:
        """The turn for a conversation item, or None for items that are not spoken messages (handoffs, tools)."""
        if not isinstance(item, llm.ChatMessage) or item.role not in ("user", "assistant"):
            return None
        text = (item.text_content or "").strip()
        if not text:
            return None
        ended_at, started_at = self._times(item.metrics)
        began = item.metrics.get("started_speaking_at")
        if item.role == "assistant":
            self._refile_late_answers()
            question = self.engine.current_question if self.engine.phase else None
            phase, question_id = self._phase(), question.id if question else None
            self._talked_over = (began, phase, question_id) if item.interrupted else None
            if not item.interrupted:
                self._heard.append((began, phase, question_id))
            speaker, confidence = Speaker.AGENT, None
        else:
            phase, question_id = self._answering(began)
            speaker = Speaker.CANDIDATE
            confidence = item.transcript_confidence if item.transcript_confidence else None
        turn = Turn(index=len(self.turns), speaker=speaker, text=text, started_at=started_at, ended_at=ended_at,
                    phase=phase, question_id=question_id, stt_confidence=confidence, interrupted=item.interrupted,
                    metrics=turn_metrics(dict(item.metrics)))
        self.turns.append(turn)
        return turn

    def heard_after_all(self) -> None:
        """The agent turn just captured was talked over, yet counts as heard (the agent's rule: the same step
        talked over twice): what the candidate says from its start on answers its question."""
        if self._talked_over is not None:
            self._heard.append(self._talked_over)
            self._talked_over = None

    def _refile_late_answers(self) -> None:
        """The agent replies once the engine has read the answer: a late one goes under the question it answers."""
        readings = self.engine.snapshot().answers
        new, self._readings = readings[self._readings:], len(readings)
        last = next((t for t in reversed(self.turns) if t.speaker is Speaker.CANDIDATE), None)
        for reading in new:
            if reading.move == Move.LATE.value and last is not None:
                last.phase, last.question_id = reading.phase, reading.question_id

    def _times(self, metrics: Any) -> tuple[float, float]:
        """End and start in interview seconds; wall-clock speaking times are placed back from now."""
        now = self.engine.now()
        started, stopped = metrics.get("started_speaking_at"), metrics.get("stopped_speaking_at")
        ended_at = max(now - max(time.time() - stopped, 0.0), 0.0) if stopped else now
        started_at = max(ended_at - (stopped - started), 0.0) if started and stopped else ended_at
        return round(ended_at, 3), round(started_at, 3)
