"""Spoken answers with pauses of chosen lengths, for the turn-detection benchmark: Piper (the `joe` voice) and
espeak-ng (a second, very different, voice).

Each answer in bench/data/turn_answers.yaml marks its pauses with "|". The text is synthesised whole, with a comma
(mid-sentence) or the sentence's own full stop at each mark, so the words before a pause keep the intonation of a
speaker who is going on; the synthesiser's short silence there (0.2-0.35 s, longer than any silence between words)
is then replaced by a pause of the wanted length.

Example::

    >>> clip = speak(Answer("s", "thinking", ["I built it in Go and", "we shipped it."]), "espeak", [1.5])
    ... # doctest: +SKIP
    >>> clip.pauses                                                                      # doctest: +SKIP
    [(1.42, 2.92)]
"""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import yaml

from bench.audio import MIC_RATE

ANSWERS = Path(__file__).resolve().parent / "data" / "turn_answers.yaml"
VOICES = ("piper", "espeak")
LEAD_SECONDS = 0.5  # silence before the first word
WINDOW = 0.01  # seconds per energy window when looking for the synthesiser's pauses
SILENT = 0.02  # a window quieter than this share of the loudest one is silence
MIN_MARK = 0.14  # seconds: the synthesiser's silence at a comma or full stop is at least this long
ATTEMPTS = 5


@dataclass(frozen=True)
class Answer:
    name: str
    kind: str  # "thinking" (pauses mid-sentence) or "sentence_end" (a pause after a finished sentence)
    parts: list[str]  # the words between pauses

    @property
    def text(self) -> str:
        """What the synthesiser reads: a comma at a mid-sentence pause, the full stop already there otherwise."""
        return " ".join(p if p.endswith((".", ",")) or i == len(self.parts) - 1 else p + ","
                        for i, p in enumerate(self.parts))


@dataclass(frozen=True)
class Clip:
    """An answer as the candidate's microphone hears it: int16 at the mic's rate, and where its pauses are."""

    answer: Answer
    voice: str
    samples: np.ndarray
    pauses: list[tuple[float, float]]  # (start, end) seconds from the clip's start, in order
    speech_end: float  # seconds from the clip's start to its last spoken sample


def load_answers(path: Path = ANSWERS) -> list[Answer]:
    data = yaml.safe_load(path.read_text())
    return [Answer(f"{kind}-{i + 1}", kind, [p.strip() for p in line.split("|")])
            for kind in ("thinking", "sentence_end") for i, line in enumerate(data[kind])]


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def _piper(text: str) -> tuple[np.ndarray, int]:
    from pipeline.local.piper_tts import load_voice, voice_paths

    voice, lock = load_voice(*voice_paths("joe"))
    with lock:
        chunks = list(voice.synthesize(text))
    return np.concatenate([np.frombuffer(c.audio_int16_bytes, dtype=np.int16) for c in chunks]), chunks[0].sample_rate


def _espeak(text: str) -> tuple[np.ndarray, int]:
    wav = subprocess.run(["espeak-ng", "--stdout", "-v", "en-us", "-s", "160", text], check=True,
                         capture_output=True, timeout=60).stdout
    with wave.open(io.BytesIO(wav)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16), w.getframerate()


@cache
def _marked(voice: str, text: str, marks: int) -> tuple[np.ndarray, int, int, list[tuple[int, int]], int]:
    """`text` spoken (samples, rate), where its speech starts, its `marks` pauses (sample spans), where it ends.

    Piper's voice varies from one synthesis to the next (its noise): when a pause is too short to be told from the
    silence between words, the text is synthesised again.
    """
    for _ in range(ATTEMPTS):
        samples, rate = _piper(text) if voice == "piper" else _espeak(text)
        lead, *gaps, tail = _silences(samples, rate)
        # the synthesiser's pauses at the marks are its longest silences (0.2-0.35 s; between words ≤ 0.1 s)
        marked = sorted(sorted(gaps, key=lambda g: g[1] - g[0])[-marks:]) if marks else []
        if len(marked) == marks and all(end - start >= MIN_MARK * rate for start, end in marked):
            return samples, rate, lead[1], marked, tail[0]
    raise ValueError(f"{voice} did not pause at every mark of {text!r}")


def _silences(samples: np.ndarray, rate: int) -> list[tuple[int, int]]:
    """(start, end) sample indexes of the silent stretches between the first and the last spoken window."""
    width = int(rate * WINDOW)
    energy = np.abs(samples[: len(samples) // width * width].astype(np.float32)).reshape(-1, width).mean(axis=1)
    loud = energy >= SILENT * energy.max()
    spoken = np.flatnonzero(loud)
    first, last = spoken[0], spoken[-1]
    gaps, start = [], None
    for i in range(first, last + 1):
        if not loud[i] and start is None:
            start = i
        elif loud[i] and start is not None:
            gaps.append((start * width, i * width))
            start = None
    return [(0, first * width), *gaps, ((last + 1) * width, len(samples))]


def speak(answer: Answer, voice: str, pauses: list[float]) -> Clip:
    """`answer` in `voice`, its k-th pause `pauses[k]` seconds long."""
    if len(pauses) != len(answer.parts) - 1:
        raise ValueError(f"{answer.name}: {len(answer.parts) - 1} pauses, {len(pauses)} lengths")
    samples, rate, cursor, marked, last = _marked(voice, answer.text, len(pauses))
    pieces, spans = [np.zeros(int(rate * LEAD_SECONDS), dtype=np.int16)], []
    length = len(pieces[0])
    for (start, end), seconds in zip(marked, pauses, strict=True):
        pieces.append(samples[cursor:start])
        length += start - cursor
        silence = np.zeros(int(rate * seconds), dtype=np.int16)
        spans.append((round(length / rate, 3), round((length + len(silence)) / rate, 3)))
        pieces.append(silence)
        length += len(silence)
        cursor = end
    pieces.append(samples[cursor:last])
    joined = np.concatenate(pieces).astype(np.float32)
    # linear resampling to the mic's rate: the VAD and the end-of-turn model resample again to 16 kHz
    t_out = np.arange(int(len(joined) * MIC_RATE / rate)) / MIC_RATE
    mic = np.interp(t_out, np.arange(len(joined)) / rate, joined).astype(np.int16)
    return Clip(answer, voice, mic, spans, round(len(mic) / MIC_RATE, 3))
