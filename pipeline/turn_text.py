"""Turn detection that also listens to the words: a transcript ending mid-thought waits the long delay.

LiveKit ends a turn `endpointing.min_delay` after speech when its detector hears the candidate finished, and
`max_delay` after it when the detector hears them mid-thought. This module adds what the candidate *said* to that
decision (the rule itself, which words leave a sentence unfinished, is engine/turn_text.py):

- :class:`TextCuedTurnDetector`, for `turn_detection: turn-detector` with `text_cues: true`: LiveKit's audio
  end-of-turn model (`inference.TurnDetector`, v1-mini), whose verdict is overruled to "mid-thought" while the
  latest final transcript ends unfinished. LiveKit asks a streaming detector's stream for its `unlikely_threshold`
  *after* the prediction and after the transcript that triggered the decision was delivered (AudioRecognition's
  `_run_eou_detection` re-runs when a final transcript arrives, once `user_input_transcribed` has been emitted), so
  the stream answers with a threshold above any probability then. It also answers so while the candidate has
  spoken since the latest final transcript: the decision LiveKit takes at the VAD's end of speech would otherwise
  judge the words before the last ones, and with a slow STT commit the turn before its last words are in; the
  final transcript that follows re-runs the decision with them. The detector learns both from the session's
  events: call :meth:`TextCuedTurnDetector.listen` (or :func:`listen`) once the session exists.
- :class:`TextTurnDetector`, for `turn_detection: vad` with `text_cues: true`: no audio model, LiveKit's text
  turn-detector protocol (`predict_end_of_turn(chat_ctx)`, as its own text models use): 0 for a transcript ending
  unfinished, 1 otherwise, so VAD silence ends every other turn after `min_delay`.

Example::

    >>> detector = TextCuedTurnDetector()                                                 # doctest: +SKIP
    >>> session = AgentSession(..., turn_handling={"turn_detection": detector, ...})      # doctest: +SKIP
    >>> listen(session)                                                                   # doctest: +SKIP
"""

from __future__ import annotations

import logging
from typing import Any

from livekit.agents import AgentSession, inference, llm
from livekit.agents.language import LanguageCode
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, APIConnectOptions, NotGivenOr
from livekit.agents.voice.events import UserInputTranscribedEvent, UserStateChangedEvent

from engine.turn_text import ends_unfinished

log = logging.getLogger(__name__)

# LiveKit waits max_delay when probability < threshold; probabilities are at most 1
ABOVE_ANY_PROBABILITY = 1.01
TEXT_THRESHOLD = 0.5  # TextTurnDetector answers 0 or 1: anything between separates them


class Hearing:
    """What a session's candidate said last (its latest final transcript) and whether they spoke since; both
    detectors below learn it from the session's events once :meth:`listen` is called."""

    words: frozenset[str] | None = None  # None: engine/turn_words.yaml
    # the latest final transcript's text: its end is the turn's transcript's end (LiveKit appends each final to the
    # turn's transcript and decides on the turn only once one has arrived), so no per-turn reset is needed
    last_transcript: str = ""
    words_pending: bool = False  # the candidate spoke since that transcript: its words are not in yet
    speaking: bool = False  # the session's VAD hears speech now

    def listen(self, session: AgentSession) -> None:
        """Hear `session`'s final transcripts and speech starts (one detector per session: see
        ProviderStack.for_session)."""
        session.on("user_input_transcribed", self.heard)
        session.on("user_state_changed", self.state_changed)

    def heard(self, ev: UserInputTranscribedEvent) -> None:
        if ev.is_final and ev.transcript.strip():
            self.last_transcript = ev.transcript
            # the STT's VAD ends an utterance where the session's does (pipeline.providers.turn_vad), so a final
            # transcript that comes while the candidate speaks is the one before: the new words are still pending
            self.words_pending = self.speaking

    def state_changed(self, ev: UserStateChangedEvent) -> None:
        self.speaking = ev.new_state == "speaking"
        if self.speaking:
            self.words_pending = True

    def unfinished(self, said: str | None = None) -> bool:
        """Whether the turn must wait: the transcript so far (`said`, default the latest final one) ends unfinished,
        or the last words are not in yet (a final transcript that never comes, e.g. for a cough, costs one
        max_delay)."""
        return self.words_pending or ends_unfinished(self.last_transcript if said is None else said, self.words)


class TextCuedTurnDetector(inference.TurnDetector, Hearing):
    """The v1-mini audio end-of-turn model, overruled to "mid-thought" by a transcript ending unfinished.

    >>> detector = TextCuedTurnDetector()                                                 # doctest: +SKIP
    >>> detector.heard(UserInputTranscribedEvent(transcript="I moved it because", is_final=True))  # doctest: +SKIP
    >>> detector.unfinished()                                                             # doctest: +SKIP
    True
    """

    def __init__(self, *, unlikely_threshold: NotGivenOr[float | dict[str, float]] = NOT_GIVEN,
                 words: frozenset[str] | None = None) -> None:
        super().__init__(version="v1-mini", unlikely_threshold=unlikely_threshold)
        self.words = words

    def stream(self, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS) -> Any:
        return TextCuedStream(super().stream(conn_options=conn_options), self)


class TextCuedStream:
    """One session's stream of the audio model (`audio`, to which everything else is delegated), whose threshold
    rises above any probability while the transcript ends unfinished."""

    def __init__(self, audio: Any, detector: TextCuedTurnDetector) -> None:
        self.audio = audio
        self._detector = detector

    def __getattr__(self, name: str) -> Any:
        return getattr(self.audio, name)

    async def unlikely_threshold(self, language: LanguageCode | None) -> float | None:
        threshold: float | None = await self.audio.unlikely_threshold(language)
        if self._detector.unfinished():
            log.debug("transcript ends unfinished (%r): waiting max_delay", self._detector.last_transcript[-40:])
            return ABOVE_ANY_PROBABILITY
        return threshold


class TextTurnDetector(Hearing):
    """LiveKit's text turn-detector protocol from the words alone: the user's transcript ending unfinished (or, once
    :meth:`listen` is called, speech whose words are not in yet) is an end-of-turn probability of 0, anything else 1.

    >>> import asyncio
    >>> ctx = llm.ChatContext()
    >>> _ = ctx.add_message(role="user", content="We chose Postgres mainly because")
    >>> asyncio.run(TextTurnDetector().predict_end_of_turn(ctx))
    0.0
    """

    def __init__(self, words: frozenset[str] | None = None) -> None:
        self.words = words

    @property
    def model(self) -> str:
        return "text-cues"

    @property
    def provider(self) -> str:
        return "sima"

    async def unlikely_threshold(self, language: LanguageCode | None) -> float | None:
        return TEXT_THRESHOLD

    async def supports_language(self, language: LanguageCode | None) -> bool:
        # the word list is English; another language's transcript rarely ends on one of its words, so it is let
        # through (and ends after min_delay, as plain VAD silence would)
        return True

    async def predict_end_of_turn(self, chat_ctx: llm.ChatContext, *, timeout: float | None = None) -> float:
        said = next((m.text_content or "" for m in reversed(chat_ctx.messages()) if m.role == "user"), "")
        return 0.0 if self.unfinished(said) else 1.0


def listen(session: AgentSession) -> None:
    """Let the text-cued detector that `session` uses (if any) hear its transcripts and speech starts."""
    detector = session.turn_detection
    if isinstance(detector, Hearing):
        detector.listen(session)
