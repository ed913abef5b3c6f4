"""When is a spoken answer over? VAD silence against LiveKit's audio end-of-turn model, on answers with pauses.

Answers (bench/turn_speech.py) are spoken by two voices, Piper's `joe` and espeak-ng, with pauses of 0.5-2 s: in
`thinking` answers the pause falls mid-sentence, on an unfinished thought; in `sentence_end` answers it follows a
finished sentence and the candidate goes on after it. Every clip is played, in real time, into one fresh LiveKit
AgentSession per detector setting at once (same audio, same moment), each with SIMA's session options
(pipeline/session.py), its own native Silero VAD, early transcription over an STT double (150 ms), the scripted
LLM and a TTS double. A user turn committed inside a pause is a false cut-off; the first one committed after the
answer's last spoken sample gives the end-of-turn delay.

Settings compared: the shipped profile's (config.yaml, profiles.local: turn_detection and endpointing) and the other
detector (VAD silence after 0.5 s, SIMA's previous default; or the turn detector with LiveKit's endpointing for it,
0.3 s / 2.5 s). Figures: turn_false_cutoff_rate (thinking pauses), turn_false_cutoff_rate_sentence_end,
turn_eou_delay_s_p50/p90 for the shipped setting, the same with `turn_alt_` for the other, and both settings'
names. Target: the shipped setting's false cut-off rate ≤ 0.05 on thinking pauses.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from livekit.agents import Agent, AgentSession, inference
from livekit.agents.voice.events import ConversationItemAddedEvent
from livekit.plugins import openai

from bench.audio import BenchMic, BenchSpeaker
from bench.doubles import FixedDelaySTT, FixedDelayTTS
from bench.llm_server import MODEL, llm_server
from bench.quiet import quiet_livekit
from bench.stats import percentile
from bench.subjects import ANSWER, BARE_INSTRUCTIONS, LLM_FIRST_TOKEN, STT_DELAY, shipped_vad
from bench.turn_speech import VOICES, Clip, espeak_available, load_answers, speak
from pipeline.early_stt import EarlyTranscription
from pipeline.providers import ProviderStack
from pipeline.session import session_options
from pipeline.settings import ProfileSettings
from sima.config import load_config

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
PAUSES = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0)  # seconds, given to the pauses in turn
CONCURRENT_CLIPS = 3  # clips played at once (each into one session per setting)
SETTLE = 0.5  # seconds of silence before a clip, once the session listens
GIVE_UP = 5.0  # seconds after the answer without a committed turn: a missed end of turn
TARGET = 0.05
THRESHOLDS = (0.15, 0.2, 0.25, 0.3, 0.36, 0.45)  # unlikely_threshold values for the trade-off table (0.36: LiveKit's)
VAD_ALTERNATIVE = {"turn_detection": "vad", "endpointing": {"min_delay": 0.5, "max_delay": 3.0}}
DETECTOR_ALTERNATIVE = {"turn_detection": "turn-detector", "endpointing": {"min_delay": 0.3, "max_delay": 2.5}}


@dataclass
class Setting:
    name: str
    profile: ProfileSettings

    @classmethod
    def of(cls, name: str, turn: dict[str, Any]) -> Setting:
        return cls(name, ProfileSettings.model_validate(
            {"stt": {"provider": "bench"}, "llm": {"provider": "bench"}, "tts": {"provider": "bench"}, **turn}))


def shipped_and_alternative() -> list[Setting]:
    """The local profile's turn settings, and the other detector's."""
    local = load_config(ROOT / "config.yaml", env={}).profiles["local"]
    turn = {"turn_detection": local.turn_detection, "turn_detector": local.turn_detector.model_dump(),
            "endpointing": local.endpointing.model_dump()}
    other = DETECTOR_ALTERNATIVE if local.turn_detection == "vad" else VAD_ALTERNATIVE
    return [Setting.of(_label(turn), turn), Setting.of(_label(other), other)]


def _label(turn: dict[str, Any]) -> str:
    ep = turn["endpointing"]
    if turn["turn_detection"] == "vad":
        return f"vad {ep['min_delay']:g} s"
    return f"{turn['turn_detection']} {ep['min_delay']:g}/{ep['max_delay']:g} s"


@dataclass
class Outcome:
    """One clip heard with one setting: the pauses it cut the answer at, its end-of-turn delay (None: missed) and,
    with the turn detector, its end-of-turn probability at each pause and at the end (None: no prediction)."""

    setting: str
    clip: Clip
    cut: list[bool] = field(default_factory=list)
    eou_delay: float | None = None
    pause_probability: list[float | None] = field(default_factory=list)
    end_probability: float | None = None


class _RecordingDetector(inference.TurnDetector):
    """The v1-mini turn detector, noting (time, probability) of each prediction it hands to the session."""

    def __init__(self) -> None:
        super().__init__(version="v1-mini")
        self.predictions: list[tuple[float, float]] = []

    def stream(self, **kwargs: Any) -> Any:
        stream = super().stream(**kwargs)
        resolve = stream._resolve_prediction

        def noted(request_id: str, probability: float, **more: Any) -> None:
            if request_id == stream._request_id:  # a stale answer is dropped by the stream too
                self.predictions.append((time.perf_counter(), probability))
            resolve(request_id, probability, **more)

        stream._resolve_prediction = noted  # type: ignore[method-assign]
        return stream


def _heard(predictions: list[tuple[float, float]], since: float, until: float) -> float | None:
    """The first probability predicted in [since, until): the one the session decided on."""
    return next((p for t, p in predictions if since <= t < until), None)


async def _hear(setting: Setting, clip: Clip, base_url: str) -> Outcome:
    vad = shipped_vad()
    stt = EarlyTranscription(stt=FixedDelaySTT(delay=STT_DELAY, transcript=lambda: ANSWER), vad=vad,
                             pause=setting.profile.early_transcription.pause_seconds,
                             min_piece=setting.profile.early_transcription.min_piece_seconds)
    detector = _RecordingDetector() if setting.profile.turn_detection == "turn-detector" else None
    providers = ProviderStack(llm=openai.LLM(base_url=base_url, api_key="bench", model=MODEL), stt=stt,
                              tts=FixedDelayTTS(first_byte=0.1), vad=vad, turn_detector=detector)
    session = AgentSession(stt=providers.stt, llm=providers.llm, tts=providers.tts, vad=providers.vad,
                           **session_options(setting.profile, providers))
    mic, speaker = BenchMic(), BenchSpeaker()
    session.input.audio, session.output.audio = mic, speaker
    commits: list[float] = []
    committed = asyncio.Event()

    def on_item(ev: ConversationItemAddedEvent) -> None:
        if getattr(ev.item, "role", None) == "user":
            commits.append(time.perf_counter())
            committed.set()

    session.on("conversation_item_added", on_item)
    await session.start(Agent(instructions=BARE_INSTRUCTIONS))
    try:
        await asyncio.sleep(SETTLE)
        ended = await mic.say(clip.samples)
        start = ended - clip.speech_end
        while not any(c >= ended for c in commits):
            committed.clear()
            try:
                await asyncio.wait_for(committed.wait(), max(0.0, ended + GIVE_UP - time.perf_counter()))
            except TimeoutError:
                break
    finally:
        await session.aclose()
    outcome = Outcome(setting.name, clip)
    bounds = [start + s for s, _ in clip.pauses] + [ended]
    outcome.cut = [any(bounds[k] <= c < bounds[k + 1] for c in commits) for k in range(len(clip.pauses))]
    after = [c - ended for c in commits if c >= ended]
    outcome.eou_delay = after[0] if after else None
    if detector is not None:
        heard = detector.predictions
        outcome.pause_probability = [_heard(heard, start + s, start + e) for s, e in clip.pauses]
        outcome.end_probability = _heard(heard, ended, ended + GIVE_UP)
    log.info("%s, %s (%s): pauses %s cut %s; end of turn after %s s", setting.name, clip.answer.name, clip.voice,
             [round(e - s, 2) for s, e in clip.pauses], outcome.cut,
             None if outcome.eou_delay is None else round(outcome.eou_delay, 3))
    return outcome


def clips(voices: tuple[str, ...] = VOICES, limit: int | None = None) -> list[Clip]:
    """Every answer (or the first `limit` of each kind) in every voice, the pauses given :data:`PAUSES` in turn."""
    answers = load_answers()
    if limit is not None:  # the first `limit` of each kind
        answers = [a for kind in ("thinking", "sentence_end") for a in [a for a in answers if a.kind == kind][:limit]]
    out, k = [], 0
    for answer in answers:
        n = len(answer.parts) - 1
        for voice in voices:
            out.append(speak(answer, voice, [PAUSES[(k + i) % len(PAUSES)] for i in range(n)]))
        k += n
    return out


def summarise(outcomes: list[Outcome], settings: list[Setting]) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for prefix, setting in zip(("turn_", "turn_alt_"), settings, strict=False):
        mine = [o for o in outcomes if o.setting == setting.name]
        figures[f"{prefix}detection"] = setting.name
        for kind, suffix in (("thinking", ""), ("sentence_end", "_sentence_end")):
            cuts = [c for o in mine if o.clip.answer.kind == kind for c in o.cut]
            figures[f"{prefix}false_cutoff_rate{suffix}"] = round(sum(cuts) / len(cuts), 3) if cuts else None
            figures[f"{prefix}pauses{suffix}"] = len(cuts)
        for voice in sorted({o.clip.voice for o in mine}):
            cuts = [c for o in mine if o.clip.voice == voice and o.clip.answer.kind == "thinking" for c in o.cut]
            figures[f"{prefix}false_cutoff_rate_{voice}"] = round(sum(cuts) / len(cuts), 3) if cuts else None
        delays = [o.eou_delay for o in mine if o.eou_delay is not None]
        figures[f"{prefix}eou_delay_s_p50"] = round(percentile(delays, 50), 3) if delays else None
        figures[f"{prefix}eou_delay_s_p90"] = round(percentile(delays, 90), 3) if delays else None
        figures[f"{prefix}eou_missed"] = len(mine) - len(delays)
        if setting.profile.turn_detection == "turn-detector":
            figures[f"{prefix}threshold_tradeoff"] = tradeoff(mine)
    rate = figures.get("turn_false_cutoff_rate")
    figures["turn_false_cutoff_rate_target"] = TARGET
    figures["turn_false_cutoff_rate_met"] = rate is not None and rate <= TARGET
    return figures


def tradeoff(outcomes: list[Outcome]) -> dict[str, dict[str, float]]:
    """What other `unlikely_threshold`s would have done with the probabilities this run predicted: per threshold,
    the share of thinking pauses heard as a finished turn (cut off after min_delay, when the pause is longer) and
    the share of answers' ends heard as mid-thought (the turn then waits max_delay)."""
    pauses = [p for o in outcomes if o.clip.answer.kind == "thinking" for p in o.pause_probability if p is not None]
    ends = [o.end_probability for o in outcomes if o.end_probability is not None]
    if not pauses or not ends:
        return {}
    return {f"{t:g}": {"thinking_pauses_heard_finished": round(sum(p >= t for p in pauses) / len(pauses), 3),
                       "ends_heard_unfinished": round(sum(p < t for p in ends) / len(ends), 3)}
            for t in THRESHOLDS}


async def measure(settings: list[Setting], played: list[Clip], concurrent: int = CONCURRENT_CLIPS
                  ) -> list[Outcome]:
    outcomes: list[Outcome] = []
    async with llm_server(first_token_delay=LLM_FIRST_TOKEN) as base_url:
        for i in range(0, len(played), concurrent):
            batch = played[i:i + concurrent]
            outcomes += await asyncio.gather(*(_hear(s, c, base_url) for c in batch for s in settings))
            log.info("%d/%d clips; false cut-offs so far: %s", min(i + concurrent, len(played)), len(played),
                     ", ".join(f"{s.name} {sum(sum(o.cut) for o in outcomes if o.setting == s.name)}"
                               for s in settings))
    return outcomes


def run(limit: int | None = None) -> dict[str, Any]:
    voices = VOICES if espeak_available() else ("piper",)
    if len(voices) < len(VOICES):
        log.warning("espeak-ng is not installed (apt-get install espeak-ng): Piper's voice only")
    settings = shipped_and_alternative()
    played = clips(voices, limit)
    with quiet_livekit():
        outcomes = asyncio.run(measure(settings, played))
    return summarise(outcomes, settings)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=None, help="only the first N answers of each kind")
    parser.add_argument("--setting", action="append", default=[], metavar="MODE:MIN[:MAX]",
                        help="compare these instead, e.g. vad:0.5 turn-detector:0.3:2.5")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    chosen = shipped_and_alternative()
    if args.setting:
        chosen = []
        for spec in args.setting:
            mode, lo, *hi = spec.split(":")
            turn = {"turn_detection": mode, "endpointing": {"min_delay": float(lo), "max_delay": float(hi[0])
                                                            if hi else 3.0}}
            chosen.append(Setting.of(_label(turn), turn))
    with quiet_livekit():
        result = asyncio.run(measure(chosen, clips(VOICES, args.answers)))
    for s in chosen:
        print(s.name, {k: v for k, v in summarise(result, [s]).items() if not k.startswith("turn_alt")})
