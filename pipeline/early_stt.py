"""Early transcription for non-streaming STTs (Whisper and the like): an answer is transcribed in pieces while it
is still being spoken, cut at the speaker's short pauses, so when the turn ends only its last piece is left.

LiveKit's `StreamAdapter` sends a whole utterance to the STT once the VAD says it is over, so all of the STT's time
is on the reply's critical path: Whisper tiny.en on 2 cores takes about 0.9 s for a 20-second answer. Here, once at
least `min_piece` seconds are pending and the VAD hears a pause of `pause` seconds (between sentences; shorter than
the end-of-turn silence), the pending audio is transcribed in the background. At the end of speech only the rest
is, and the pieces' texts are joined, in order, into the turn's one final transcript. The pieces transcribed while
the answer goes on are reported as interim transcripts. A pause with less than `min_piece` pending is a guess: what
is pending goes to the STT at once, and the result is the last piece if the speech ends there, or dropped if the
candidate goes on (the audio then stays for a longer piece). So the last words are transcribed while the VAD is
still making sure the silence is long enough to end the speech.

Pauses are silence, so no word is ever split; each piece loses only the context of the one before it.

Example::

    >>> vad = silero.VAD.load()                                                           # doctest: +SKIP
    >>> adapter = EarlyTranscription(stt=WhisperSTT(), vad=vad, pause=0.2, min_piece=3.0)  # doctest: +SKIP
    >>> session = AgentSession(stt=adapter, vad=vad, ...)                                  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from typing import Any

from livekit import rtc
from livekit.agents import utils
from livekit.agents.stt import STT, RecognizeStream, SpeechData, SpeechEvent, SpeechEventType, STTCapabilities
from livekit.agents.stt.stream_adapter import DEFAULT_STREAM_ADAPTER_API_CONNECT_OPTIONS
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, APIConnectOptions, NotGivenOr
from livekit.agents.vad import VAD, VADEvent, VADEventType, VADStream

log = logging.getLogger(__name__)


class EarlyTranscription(STT):
    """A streaming STT over a non-streaming one: VAD-cut utterances, transcribed piece by piece as they are spoken."""

    def __init__(self, *, stt: STT, vad: VAD, pause: float, min_piece: float) -> None:
        super().__init__(capabilities=STTCapabilities(streaming=True, interim_results=True))
        self._stt = stt
        self._vad = vad
        self.pause = pause
        self.min_piece = min_piece
        self._stt.on("metrics_collected", self._forward_metrics)

    @property
    def wrapped_stt(self) -> STT:
        return self._stt

    @property
    def model(self) -> str:
        return self._stt.model

    @property
    def provider(self) -> str:
        return self._stt.provider

    async def _recognize_impl(
        self,
        buffer: utils.AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> SpeechEvent:
        return await self._stt.recognize(buffer=buffer, language=language, conn_options=conn_options)

    def stream(
        self,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> RecognizeStream:
        return _EarlyStream(self, language=language, conn_options=conn_options)

    def prewarm(self) -> None:
        self._stt.prewarm()

    def _forward_metrics(self, *args: Any, **kwargs: Any) -> None:
        self.emit("metrics_collected", *args, **kwargs)

    async def aclose(self) -> None:
        self._stt.off("metrics_collected", self._forward_metrics)


class _EarlyStream(RecognizeStream):
    def __init__(self, adapter: EarlyTranscription, *, language: NotGivenOr[str], conn_options: APIConnectOptions):
        # the wrapped STT retries each piece itself (as LiveKit's StreamAdapter relies on); the stream does not
        super().__init__(stt=adapter, conn_options=DEFAULT_STREAM_ADAPTER_API_CONNECT_OPTIONS)
        self._adapter = adapter
        self._language = language
        self._piece_options = conn_options

    async def _metrics_monitor_task(self, event_aiter: Any) -> None:
        async for _ in event_aiter:  # the wrapped STT reports its own metrics per request
            pass

    async def _run(self) -> None:
        vad_stream = self._adapter._vad.stream()

        async def forward_input() -> None:
            async for item in self._input_ch:
                if isinstance(item, self._FlushSentinel):
                    vad_stream.flush()
                else:
                    vad_stream.push_frame(item)
            vad_stream.end_input()

        tasks = [asyncio.create_task(forward_input(), name="early_stt_input"),
                 asyncio.create_task(self._recognize(vad_stream), name="early_stt_recognize")]
        try:
            await asyncio.gather(*tasks)
        finally:
            await utils.aio.cancel_and_wait(*tasks)
            await vad_stream.aclose()

    async def _recognize(self, vad_stream: VADStream) -> None:
        utterance: _Utterance | None = None
        try:
            async for ev in vad_stream:
                if ev.type == VADEventType.START_OF_SPEECH:
                    utterance = _Utterance(self, list(ev.frames))
                    self._event_ch.send_nowait(SpeechEvent(SpeechEventType.START_OF_SPEECH))
                elif ev.type == VADEventType.INFERENCE_DONE and utterance is not None:
                    utterance.hear(ev)
                elif ev.type == VADEventType.END_OF_SPEECH and utterance is not None:
                    speech_end_time = time.time() - ev.silence_duration - ev.inference_duration
                    self._event_ch.send_nowait(
                        SpeechEvent(SpeechEventType.END_OF_SPEECH, speech_end_time=speech_end_time))
                    done, utterance = utterance, None
                    data = await done.finish()
                    if data is not None:
                        self._event_ch.send_nowait(SpeechEvent(
                            SpeechEventType.FINAL_TRANSCRIPT, alternatives=[data], speech_end_time=speech_end_time))
        finally:
            if utterance is not None:
                await utterance.cancel()

    def transcribe(self, frames: list[rtc.AudioFrame]) -> asyncio.Task[SpeechEvent]:
        return asyncio.create_task(self._adapter.wrapped_stt.recognize(
            buffer=utils.merge_frames(frames), language=self._language, conn_options=self._piece_options))


class _Utterance:
    """One utterance's audio since the last cut, and the pieces already sent to the STT."""

    def __init__(self, stream: _EarlyStream, frames: list[rtc.AudioFrame]):
        self.stream = stream
        self.frames = frames  # the VAD's speech buffer at the start: prefix padding and the first words
        self.pending = _seconds(frames)
        self.pieces: list[tuple[asyncio.Task[SpeechEvent], float]] = []
        self.guess: tuple[asyncio.Task[SpeechEvent], float] | None = None  # what is pending, sent at a short pause
        self.spoke_since_cut = True
        self.reported = 0  # pieces already sent on as an interim transcript
        self.finished = False

    def hear(self, ev: VADEvent) -> None:
        self.frames += ev.frames
        self.pending += _seconds(ev.frames)
        if ev.raw_accumulated_speech > 0:
            self.spoke_since_cut = True
            self._drop_guess()  # the candidate went on: the pending audio joins a longer piece
        if ev.raw_accumulated_silence >= self.stream._adapter.pause and self.spoke_since_cut:
            if self.pending >= self.stream._adapter.min_piece:
                self._cut()
            elif self.guess is None:
                task = self.stream.transcribe(self.frames)
                task.add_done_callback(self._guessed)
                self.guess = (task, self.pending)

    def _drop_guess(self) -> None:
        if self.guess is not None:
            self.guess[0].cancel()
            self.guess = None

    def _cut(self) -> None:
        self._drop_guess()
        task = self.stream.transcribe(self.frames)
        self._add(task, self.pending)

    def _add(self, task: asyncio.Task[SpeechEvent], seconds: float) -> None:
        task.add_done_callback(lambda _: self._report())
        self.pieces.append((task, seconds))
        log.debug("early transcription: piece %d, %.1f s", len(self.pieces), seconds)
        self.frames, self.pending, self.spoke_since_cut = [], 0.0, False

    def _report(self) -> None:
        """While the answer goes on, what its first pieces said, as an interim transcript (a listener can start on
        it: the agent reads it into its LLM's prompt cache)."""
        done = list(itertools.takewhile(lambda p: _succeeded(p[0]), self.pieces))
        if self.finished or len(done) <= self.reported:
            return
        self.reported = len(done)
        self._interim(done)

    def _guessed(self, task: asyncio.Task[SpeechEvent]) -> None:
        """The answer so far, with the guess, as an interim transcript (the pause may be its end: the agent's
        listeners get its last words before the VAD has made sure)."""
        if (self.finished or self.guess is None or self.guess[0] is not task or not _succeeded(task)
                or not all(_succeeded(piece) for piece, _ in self.pieces)):
            return
        self._interim([*self.pieces, self.guess])

    def _interim(self, pieces: list[tuple[asyncio.Task[SpeechEvent], float]]) -> None:
        """The finished `pieces`' texts, joined, as an interim transcript."""
        data = _joined([(task.result(), seconds) for task, seconds in pieces])
        if data is not None:
            self.stream._event_ch.send_nowait(SpeechEvent(SpeechEventType.INTERIM_TRANSCRIPT, alternatives=[data]))

    async def finish(self) -> SpeechData | None:
        """The whole utterance's transcript: the last piece, then every piece's text in order."""
        self.finished = True
        if self.guess is not None:  # the speech ended at the pause the guess was sent at: it is the last piece
            guess, self.guess = self.guess, None
            self._add(*guess)
        elif self.spoke_since_cut or not self.pieces:  # after a cut in the final silence there is nothing left
            self._cut()
        try:
            events = await asyncio.gather(*(task for task, _ in self.pieces))
        finally:
            await self.cancel()
        return _joined(list(zip(events, (seconds for _, seconds in self.pieces), strict=True)))

    async def cancel(self) -> None:
        self.finished = True
        guess = [self.guess[0]] if self.guess is not None else []
        self.guess = None
        await utils.aio.cancel_and_wait(*(task for task, _ in self.pieces if not task.done()), *guess)


def _succeeded(task: asyncio.Task[SpeechEvent]) -> bool:
    return task.done() and not task.cancelled() and task.exception() is None


def _joined(pieces: list[tuple[SpeechEvent, float]]) -> SpeechData | None:
    """The pieces' texts as one, in order, with their confidence weighted by duration; None if nothing was said."""
    said = [(ev.alternatives[0], seconds) for ev, seconds in pieces
            if ev.alternatives and ev.alternatives[0].text.strip()]
    if not said:
        return None
    total = sum(seconds for _, seconds in said)
    first = said[0][0]
    return SpeechData(
        language=first.language,
        text=" ".join(data.text.strip() for data, _ in said),
        confidence=sum(data.confidence * seconds for data, seconds in said) / total if total else first.confidence,
        start_time=0.0,
        end_time=total,
    )


def _seconds(frames: list[rtc.AudioFrame]) -> float:
    return sum(f.samples_per_channel / f.sample_rate for f in frames)
