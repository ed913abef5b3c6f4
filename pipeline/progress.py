"""The interview's progress as the candidate's screen shows it: the current phase and the time left.

The same string map is published as the agent's LiveKit participant attributes in a room, and sent over the web
app's WebSocket in a typed interview; the page counts the seconds down between updates.

Example::

    >>> import asyncio
    >>> from engine.clock import FakeClock
    >>> from engine.interview import InterviewEngine
    >>> from engine.settings import InterviewSettings
    >>> from tests.factories import make_banks
    >>> engine = InterviewEngine(InterviewSettings(), make_banks(), FakeClock())
    >>> asyncio.run(engine.start())
    >>> progress_attributes(engine)
    {'sima.phase': 'introduction', 'sima.phase_seconds_left': '120', 'sima.seconds_left': '1500'}
"""

from __future__ import annotations

import logging

from livekit import rtc

from engine.events import Event
from engine.interview import InterviewEngine

log = logging.getLogger(__name__)

PHASE, PHASE_LEFT, TOTAL_LEFT = "sima.phase", "sima.phase_seconds_left", "sima.seconds_left"


def progress_attributes(engine: InterviewEngine) -> dict[str, str]:
    phase = engine.phase
    return {PHASE: phase.value if phase and not engine.ended else "ended",
            PHASE_LEFT: f"{engine.phase_remaining():.0f}", TOTAL_LEFT: f"{engine.total_remaining():.0f}"}


class ProgressPublisher:
    """An engine listener that publishes the progress as the agent's participant attributes on every event."""

    def __init__(self, engine: InterviewEngine, participant: rtc.LocalParticipant):
        self.engine = engine
        self.participant = participant

    async def __call__(self, event: Event) -> None:
        try:
            await self.participant.set_attributes(progress_attributes(self.engine))
        except Exception:  # the screen's progress is a courtesy: it must never stop the interview
            log.warning("could not publish the interview's progress", exc_info=True)
