"""When is a spoken answer over? VAD silence, LiveKit's audio end-of-turn model and the words, on answers with pauses.

Answers (bench/turn_speech.py) are spoken by two voices, Piper's `joe` and espeak-ng, with pauses of 0.5-2 s: in
`thinking` answers the pause falls mid-sentence, on an unfinished thought; in `sentence_end` answers it follows a
finished sentence and the candidate goes on after it. Every clip is played, in real time, into one fresh LiveKit
AgentSession per detector setting at once (same audio, same moment), each with SIMA's session options
(pipeline/session.py), its own native Silero VAD (ending speech after min_delay of silence, as
pipeline/providers.turn_vad wires it), early transcription, the scripted LLM and a TTS double. A user
turn committed inside a pause is a false cut-off; the first one committed after the answer's last spoken sample
gives the end-of-turn delay.

The STT is a *perfect transcriber* (:class:`SpokenSoFar` behind the 150 ms STT double): each request is answered
with the answer's words spoken since the previous request, exactly as written in bench/data/turn_answers.yaml
(the benchmark knows each piece's text and when it was played). Real transcription makes mistakes at cuts, so the
text cues' figures here are an upper bound on what they do with Whisper.

Settings compared (:data:`CANDIDATES`; the shipped profile's, from config.yaml profiles.local, first): VAD silence
after 0.5 s (SIMA's previous default); VAD silence with text cues (0.5 s, or 2.5 s after a transcript ending on a
word no sentence ends on: engine/turn_text.py); the turn detector (0.5 s when it hears a finished turn, 2.5 s when
not); the turn detector with text cues (a transcript ending unfinished waits 2.5 s whatever the model heard).
Figures: turn_false_cutoff_rate (thinking pauses), turn_false_cutoff_rate_sentence_end, turn_eou_delay_s_p50/p90
for the shipped setting, the same with `turn_alt_` for the other detector with the same text-cue setting (the
turn detector when VAD silence ships, and the other way round), every setting's under turn_settings, and the share
of pauses and ends whose words the text rule calls unfinished (turn_text_unfinished_share). Target: the shipped
setting's false cut-off rate ≤ 0.05 on thinking pauses.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from livekit.agents import Agent, AgentSession, inference, llm
from livekit.agents.voice.events import ConversationItemAddedEvent
from livekit.plugins import openai

from bench.audio import BenchMic, BenchSpeaker
from bench.doubles import FixedDelaySTT, FixedDelayTTS
from bench.llm_server import MODEL, llm_server
from bench.quiet import quiet_livekit
from bench.stats import percentile
from bench.subjects import BARE_INSTRUCTIONS, LLM_FIRST_TOKEN, STT_DELAY, shipped_vad
from bench.turn_speech import VOICES, Clip, espeak_available, load_answers, speak
from engine.turn_text import ends_unfinished
from pipeline.early_stt import EarlyTranscription
from pipeline.providers import ProviderStack, language_turn_detector, turn_vad
from pipeline.registry import BuildContext
from pipeline.session import session_options
from pipeline.settings import ProfileSettings
from pipeline.turn_lm import CompletionModel, LanguageTurnDetector
from pipeline.turn_text import TextCuedTurnDetector, listen
from sima.config import load_config

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
PAUSES = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0)  # seconds, given to the pauses in turn
SESSIONS_AT_ONCE = 8  # clips played at once × settings: 2 clips into 4 settings' sessions
SETTLE = 0.5  # seconds of silence before a clip, once the session listens
GIVE_UP = 5.0  # seconds after the answer without a committed turn: a missed end of turn
TARGET = 0.05
# unlikely_threshold values for the trade-off tables: the audio model's (0.36: LiveKit's) and the language model's
THRESHOLDS = {"turn-detector": (0.15, 0.2, 0.25, 0.3, 0.36, 0.45),
              "language-model": (0.002, 0.003, 0.005, 0.01, 0.02, 0.05, 0.1)}
LONG = 2.5  # seconds: max_delay, longer than the longest pause
CANDIDATES: list[dict[str, Any]] = [
    {"turn_detection": "vad", "endpointing": {"min_delay": 0.5, "max_delay": 3.0}},
    {"turn_detection": "vad", "text_cues": True, "endpointing": {"min_delay": 0.5, "max_delay": LONG}},
    {"turn_detection": "turn-detector", "endpointing": {"min_delay": 0.5, "max_delay": LONG}},
    {"turn_detection": "turn-detector", "text_cues": True, "endpointing": {"min_delay": 0.5, "max_delay": LONG}},
    {"turn_detection": "language-model", "endpointing": {"min_delay": 0.5, "max_delay": LONG}},
]
# what the interviewer asked before each answer, for the language model's reading (one interview-style question
# for every clip: the answers are to different questions, and none is written for this one)
QUESTION = "Tell me about your recent work."


@dataclass
class Setting:
    name: str
    profile: ProfileSettings

    @classmethod
    def of(cls, turn: dict[str, Any]) -> Setting:
        return cls(_label(turn), ProfileSettings.model_validate(
            {"stt": {"provider": "bench"}, "llm": {"provider": "bench"}, "tts": {"provider": "bench"}, **turn}))


def compared() -> list[Setting]:
    """The local profile's turn settings first, then every other candidate."""
    local = load_config(ROOT / "config.yaml", env={}).profiles["local"]
    shipped = Setting.of({"turn_detection": local.turn_detection, "turn_detector": local.turn_detector.model_dump(),
                          "text_cues": local.text_cues, "endpointing": local.endpointing.model_dump()})
    return [shipped, *(s for s in map(Setting.of, CANDIDATES) if s.name != shipped.name)]


def alternative(settings: list[Setting]) -> Setting | None:
    """The other detector beside the shipped setting (`turn_alt_`): the turn detector if VAD silence ships, VAD
    silence if the turn detector or the language model does, with text cues as the shipped setting reads the words
    (if measured)."""
    shipped = settings[0].profile
    others = [s for s in settings[1:] if s.profile.turn_detection != shipped.turn_detection]
    cues = shipped.text_cues or shipped.turn_detection == "language-model"  # it reads the words first too
    return next((s for s in others if s.profile.text_cues == cues), others[0] if others else None)


def _label(turn: dict[str, Any]) -> str:
    ep = turn["endpointing"]
    cues = " + text" if turn.get("text_cues") else ""
    if turn["turn_detection"] == "vad" and not cues:
        return f"vad {ep['min_delay']:g} s"
    return f"{turn['turn_detection']} {ep['min_delay']:g}/{ep['max_delay']:g} s{cues}"


class SpokenSoFar:
    """A perfect transcriber's knowledge of one clip: called when audio is sent to the STT, the words of the parts
    spoken since the previous call (a part counts once its last word has been played), as the YAML writes them.

    >>> import numpy as np
    >>> from bench.turn_speech import Answer
    >>> clip = Clip(Answer("a", "thinking", ["I built it in Go and", "it held."]), "piper", np.zeros(0, np.int16),
    ...             [(1.5, 3.0)], 4.0)
    >>> heard = SpokenSoFar(clip)
    >>> heard.started = time.perf_counter() - 2.0   # 2 s into the clip: the first part is over
    >>> heard(), heard()
    ('I built it in Go and', '')
    """

    def __init__(self, clip: Clip) -> None:
        self.clip = clip
        self.started: float | None = None  # time.perf_counter() when the clip's playback started
        self.given = 0  # parts already returned

    def __call__(self) -> str:
        if self.started is None:
            return ""
        elapsed = time.perf_counter() - self.started
        ends = [start for start, _ in self.clip.pauses] + [self.clip.speech_end]
        spoken = sum(end <= elapsed for end in ends)
        text = " ".join(self.clip.answer.parts[self.given:spoken])
        self.given = max(self.given, spoken)
        return text


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


class _Recording:
    """Notes (time, probability) of each prediction the v1-mini model hands to the session."""

    predictions: list[tuple[float, float]]

    def stream(self, **kwargs: Any) -> Any:
        stream = super().stream(**kwargs)  # type: ignore[misc]
        audio = getattr(stream, "audio", stream)  # a text-cued stream wraps the model's
        resolve = audio._resolve_prediction

        def noted(request_id: str, probability: float, **more: Any) -> None:
            if request_id == audio._request_id:  # a stale answer is dropped by the stream too
                self.predictions.append((time.perf_counter(), probability))
            resolve(request_id, probability, **more)

        audio._resolve_prediction = noted
        return stream


class _RecordingLanguage(LanguageTurnDetector):
    """Notes (time, probability) of each end-of-turn probability the language model gives the session."""

    def __init__(self, model: CompletionModel, *, unlikely_threshold: float) -> None:
        super().__init__(model, unlikely_threshold=unlikely_threshold)
        self.predictions: list[tuple[float, float]] = []

    async def predict_end_of_turn(self, chat_ctx: llm.ChatContext, *, timeout: float | None = None) -> float:
        pending = self.words_pending  # a decision taken before the words are in is re-run when they come
        probability = await super().predict_end_of_turn(chat_ctx, timeout=timeout)
        if not pending:
            self.predictions.append((time.perf_counter(), probability))
        return probability


class _RecordingDetector(_Recording, inference.TurnDetector):
    def __init__(self) -> None:
        super().__init__(version="v1-mini")
        self.predictions = []


class _RecordingCuedDetector(_Recording, TextCuedTurnDetector):
    def __init__(self) -> None:
        super().__init__()
        self.predictions = []


def _heard(predictions: list[tuple[float, float]], since: float, until: float) -> float | None:
    """The first probability predicted in [since, until): the one the session decided on."""
    return next((p for t, p in predictions if since <= t < until), None)


async def _hear(setting: Setting, clip: Clip, base_url: str) -> Outcome:
    vad = turn_vad(shipped_vad(), setting.profile)  # as build_stack wires it, for the STT and the session
    heard_so_far = SpokenSoFar(clip)
    stt = EarlyTranscription(stt=FixedDelaySTT(delay=STT_DELAY, transcript=heard_so_far), vad=vad,
                             pause=setting.profile.early_transcription.pause_seconds,
                             min_piece=setting.profile.early_transcription.min_piece_seconds)
    detector: _RecordingDetector | _RecordingCuedDetector | _RecordingLanguage | None = None
    if setting.profile.turn_detection == "turn-detector":
        detector = _RecordingCuedDetector() if setting.profile.text_cues else _RecordingDetector()
    elif setting.profile.turn_detection == "language-model":
        shared = language_turn_detector(setting.profile, BuildContext(cache_dir=ROOT / ".cache" / "sima"))
        assert shared.turn_model is not None
        detector = _RecordingLanguage(shared.turn_model, unlikely_threshold=shared.threshold)
    providers = ProviderStack(llm=openai.LLM(base_url=base_url, api_key="bench", model=MODEL), stt=stt,
                              tts=FixedDelayTTS(first_byte=0.1), vad=vad, turn_detector=detector)
    session = AgentSession(stt=providers.stt, llm=providers.llm, tts=providers.tts, vad=providers.vad,
                           **session_options(setting.profile, providers))
    mic, speaker = BenchMic(), BenchSpeaker()
    session.input.audio, session.output.audio = mic, speaker
    listen(session)  # as pipeline/session.py does: a text-cued detector hears the transcripts
    commits: list[float] = []
    committed = asyncio.Event()

    def on_item(ev: ConversationItemAddedEvent) -> None:
        if getattr(ev.item, "role", None) == "user":
            commits.append(time.perf_counter())
            committed.set()

    session.on("conversation_item_added", on_item)
    asked = llm.ChatContext()
    asked.add_message(role="assistant", content=QUESTION)
    await session.start(Agent(instructions=BARE_INSTRUCTIONS, chat_ctx=asked))
    try:
        await asyncio.sleep(SETTLE)
        said = mic.say(clip.samples)
        heard_so_far.started = time.perf_counter()  # the mic plays queued samples from its next frame on
        ended = await said
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


def figures_of(outcomes: list[Outcome], setting: Setting) -> dict[str, Any]:
    """One setting's figures, unprefixed: false cut-off rates (thinking pauses, per voice, sentence-end pauses),
    end-of-turn delays and, with the turn detector, its threshold trade-off."""
    mine = [o for o in outcomes if o.setting == setting.name]
    figures: dict[str, Any] = {"detection": setting.name}
    for kind, suffix in (("thinking", ""), ("sentence_end", "_sentence_end")):
        cuts = [c for o in mine if o.clip.answer.kind == kind for c in o.cut]
        figures[f"false_cutoff_rate{suffix}"] = round(sum(cuts) / len(cuts), 3) if cuts else None
        figures[f"pauses{suffix}"] = len(cuts)
    for voice in sorted({o.clip.voice for o in mine}):
        cuts = [c for o in mine if o.clip.voice == voice and o.clip.answer.kind == "thinking" for c in o.cut]
        figures[f"false_cutoff_rate_{voice}"] = round(sum(cuts) / len(cuts), 3) if cuts else None
    delays = [o.eou_delay for o in mine if o.eou_delay is not None]
    figures["eou_delay_s_p50"] = round(percentile(delays, 50), 3) if delays else None
    figures["eou_delay_s_p90"] = round(percentile(delays, 90), 3) if delays else None
    # a finished answer heard as unfinished waits max_delay: the share of ends slower than min_delay + 1 s
    slow = setting.profile.endpointing.min_delay + 1.0
    figures["eou_slow_share"] = round(sum(d > slow for d in delays) / len(delays), 3) if delays else None
    figures["eou_missed"] = len(mine) - len(delays)
    if setting.profile.turn_detection in THRESHOLDS:
        figures["threshold_tradeoff"] = tradeoff(mine, THRESHOLDS[setting.profile.turn_detection],
                                                 text_cues=setting.profile.text_cues)
    return figures


def summarise(outcomes: list[Outcome], settings: list[Setting]) -> dict[str, Any]:
    """The shipped setting's figures (`turn_`), the other detector's (`turn_alt_`), every setting's
    (`turn_settings`), and how often the text rule calls the answers' pauses and ends unfinished."""
    each = {s.name: figures_of(outcomes, s) for s in settings}
    figures: dict[str, Any] = {f"turn_{k}": v for k, v in each[settings[0].name].items()}
    alt = alternative(settings)
    if alt is not None:
        figures.update({f"turn_alt_{k}": v for k, v in each[alt.name].items()})
    figures["turn_settings"] = each
    clips = list({(o.clip.answer.name, o.clip.voice): o.clip for o in outcomes}.values())
    figures["turn_text_unfinished_share"] = text_unfinished_share(clips)
    rate = figures.get("turn_false_cutoff_rate")
    figures["turn_false_cutoff_rate_target"] = TARGET
    figures["turn_false_cutoff_rate_met"] = rate is not None and rate <= TARGET
    return figures


def text_unfinished_share(played: list[Clip]) -> dict[str, float | None]:
    """From the answers' words alone (no run): the share of thinking pauses, sentence-end pauses and answer ends
    whose transcript so far the text rule (engine/turn_text.py) calls unfinished.

    >>> import numpy as np
    >>> from bench.turn_speech import Answer
    >>> a = Answer("a", "thinking", ["We chose Postgres over", "a document store mainly because", "it fit."])
    >>> text_unfinished_share([Clip(a, "piper", np.zeros(0, np.int16), [(1, 2), (3, 4)], 5.0)])
    {'thinking_pauses': 0.5, 'sentence_end_pauses': None, 'ends': 0.0}
    """
    def share(flags: list[bool]) -> float | None:
        return round(sum(flags) / len(flags), 3) if flags else None

    pauses = {kind: [ends_unfinished(" ".join(c.answer.parts[:k + 1])) for c in played if c.answer.kind == kind
                     for k in range(len(c.answer.parts) - 1)] for kind in ("thinking", "sentence_end")}
    return {"thinking_pauses": share(pauses["thinking"]), "sentence_end_pauses": share(pauses["sentence_end"]),
            "ends": share([ends_unfinished(" ".join(c.answer.parts)) for c in played])}


def tradeoff(outcomes: list[Outcome], thresholds: tuple[float, ...], text_cues: bool = False
             ) -> dict[str, dict[str, float]]:
    """What other `unlikely_threshold`s would have done with the probabilities this run predicted: per threshold,
    the share of thinking pauses heard as a finished turn (cut off after min_delay, when the pause is longer) and
    the share of answers' ends heard as mid-thought (the turn then waits max_delay). With `text_cues`, a pause or
    an end whose words so far end unfinished is heard as mid-thought whatever the probability."""
    def finished(o: Outcome, k: int | None, p: float, t: float) -> bool:
        parts = o.clip.answer.parts if k is None else o.clip.answer.parts[:k + 1]
        return p >= t and not (text_cues and ends_unfinished(" ".join(parts)))

    pauses = [(o, k, p) for o in outcomes if o.clip.answer.kind == "thinking"
              for k, p in enumerate(o.pause_probability) if p is not None]
    ends = [(o, o.end_probability) for o in outcomes if o.end_probability is not None]
    if not pauses or not ends:
        return {}
    return {f"{t:g}": {"thinking_pauses_heard_finished":
                       round(sum(finished(o, k, p, t) for o, k, p in pauses) / len(pauses), 3),
                       "ends_heard_unfinished": round(sum(not finished(o, None, p, t) for o, p in ends) / len(ends), 3)}
            for t in thresholds}


async def measure(settings: list[Setting], played: list[Clip], concurrent: int | None = None) -> list[Outcome]:
    """Play `played`, `concurrent` clips at once (default: :data:`SESSIONS_AT_ONCE` sessions in all), each into one
    session per setting."""
    concurrent = concurrent or max(1, SESSIONS_AT_ONCE // len(settings))
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
    settings = compared()
    played = clips(voices, limit)
    with quiet_livekit():
        outcomes = asyncio.run(measure(settings, played))
    return summarise(outcomes, settings)


def parse_setting(spec: str) -> Setting:
    """`MODE:MIN[:MAX][:text]` as a setting.

    >>> parse_setting("turn-detector:0.5:2.5:text").name, parse_setting("vad:0.5").name
    ('turn-detector 0.5/2.5 s + text', 'vad 0.5 s')
    """
    mode, *rest = spec.split(":")
    cues = bool(rest) and rest[-1] == "text"
    lo, *hi = rest[:-1] if cues else rest
    return Setting.of({"turn_detection": mode, "text_cues": cues,
                       "endpointing": {"min_delay": float(lo), "max_delay": float(hi[0]) if hi else 3.0}})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=None, help="only the first N answers of each kind")
    parser.add_argument("--setting", action="append", default=[], metavar="MODE:MIN[:MAX][:text]",
                        help="compare these instead, e.g. vad:0.5 turn-detector:0.5:2.5:text")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    chosen = [parse_setting(spec) for spec in args.setting] or compared()
    with quiet_livekit():
        result = asyncio.run(measure(chosen, clips(VOICES, args.answers)))
    for s in chosen:
        print(s.name, figures_of(result, s))
