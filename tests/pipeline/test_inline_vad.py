"""The inline VAD hears speech where LiveKit's `inference.VAD` does, with the fields its audio recognition reads."""

from __future__ import annotations

import numpy as np
import pytest
from livekit import rtc
from livekit.agents import inference, vad

from pipeline.audio_io import read_wav
from pipeline.inline_vad import MODEL_RATE, InlineSileroVAD, Resampler
from tests.pipeline.conftest import DATA

FRAME_SECONDS = 0.05


def _track(rate: int) -> np.ndarray:
    """Half a second of silence, the answer, a second of silence, the answer again, a second of silence."""
    speech, source_rate = read_wav(DATA / "candidate_answer.wav")
    if rate != source_rate:
        t = np.arange(int(len(speech) * rate / source_rate)) / rate
        speech = np.interp(t, np.arange(len(speech)) / source_rate, speech).astype(np.int16)
    gap = np.zeros(rate, dtype=np.int16)
    return np.concatenate([gap[: rate // 2], speech, gap, speech, gap])


async def _events(detector: vad.VAD, rate: int, frame_seconds: float = FRAME_SECONDS) -> list[vad.VADEvent]:
    stream = detector.stream()
    track, per = _track(rate), int(rate * frame_seconds)
    for i in range(0, len(track) - per + 1, per):
        stream.push_frame(rtc.AudioFrame(data=track[i:i + per].tobytes(), sample_rate=rate, num_channels=1,
                                         samples_per_channel=per))
    stream.end_input()
    events = [ev async for ev in stream]
    await stream.aclose()
    return events


def _changes(events: list[vad.VADEvent]) -> list[tuple[vad.VADEventType, float]]:
    return [(ev.type, ev.timestamp) for ev in events if ev.type is not vad.VADEventType.INFERENCE_DONE]


@pytest.mark.parametrize("rate", [16_000, 24_000, 48_000])
async def test_speech_starts_and_ends_where_livekit_hears_them(rate: int) -> None:
    ours = await _events(InlineSileroVAD(min_silence_duration=0.5), rate)
    livekit = await _events(inference.VAD(min_silence_duration=0.5), rate)
    mine, theirs = _changes(ours), _changes(livekit)
    assert [kind for kind, _ in mine] == [kind for kind, _ in theirs] == [
        vad.VADEventType.START_OF_SPEECH, vad.VADEventType.END_OF_SPEECH] * 2
    # the same windows at 16 kHz; resampled input may move a boundary by a window
    tolerance = 1e-6 if rate == MODEL_RATE else 0.065
    assert all(abs(a - b) <= tolerance for (_, a), (_, b) in zip(mine, theirs, strict=True))


async def test_speech_events_carry_the_answer_audio_and_durations() -> None:
    events = await _events(InlineSileroVAD(min_silence_duration=0.5), 24_000)
    ends = [ev for ev in events if ev.type is vad.VADEventType.END_OF_SPEECH]
    assert len(ends) == 2
    for end in ends:
        audio = end.frames[0]
        assert audio.sample_rate == 24_000
        # the answer is 3.2 s long with its own silences; its audio comes with half a second of padding before it
        assert 2.5 < audio.duration < 4.5
        assert 2.0 < end.speech_duration < 3.5
        assert end.silence_duration >= 0.5
        assert end.speaking is False
    starts = [ev for ev in events if ev.type is vad.VADEventType.START_OF_SPEECH]
    assert all(ev.speaking and ev.frames[0].duration >= 0.05 for ev in starts)


async def test_one_inference_event_per_frame_reports_speech_and_silence() -> None:
    events = await _events(InlineSileroVAD(min_silence_duration=0.5), 16_000)
    inference_done = [ev for ev in events if ev.type is vad.VADEventType.INFERENCE_DONE]
    frames = int(len(_track(16_000)) / (16_000 * FRAME_SECONDS))
    # one per frame, and one more before each of the four changes of state
    assert frames <= len(inference_done) <= frames + 4
    assert any(ev.speaking and ev.raw_accumulated_speech > 0 for ev in inference_done)
    assert inference_done[-1].speaking is False and inference_done[-1].raw_accumulated_silence >= 0.5
    assert all(0.0 <= ev.probability <= 1.0 for ev in inference_done)


@pytest.mark.parametrize("frame_seconds", [0.01, 0.02, 0.05, 0.1])
async def test_inference_events_carry_every_pushed_sample_once(frame_seconds: float) -> None:
    # early transcription (pipeline/early_stt.py) builds each piece of an answer from these events' audio: a 10 or
    # 20 ms frame that completes no 32 ms window must still reach it, and none may come twice
    rate = 24_000
    events = await _events(InlineSileroVAD(min_silence_duration=0.5), rate, frame_seconds)
    carried = b"".join(f.data.tobytes() for ev in events if ev.type is vad.VADEventType.INFERENCE_DONE
                       for f in ev.frames)
    track, per = _track(rate), int(rate * frame_seconds)
    pushed = track[: (len(track) - per) // per * per + per].tobytes()
    # all of it, in order, but for the frames after the last complete window (less than one window)
    assert pushed.startswith(carried)
    assert len(pushed) - len(carried) < 2 * max(per, int(rate * 0.032) + 1)


async def test_a_flush_starts_a_fresh_segment() -> None:
    detector = InlineSileroVAD(min_silence_duration=0.5)
    stream = detector.stream()
    speech = _track(16_000)[8_000:40_000]  # inside the first answer
    per = int(16_000 * FRAME_SECONDS)
    for i in range(0, len(speech) - per + 1, per):
        stream.push_frame(rtc.AudioFrame(data=speech[i:i + per].tobytes(), sample_rate=16_000, num_channels=1,
                                         samples_per_channel=per))
    stream.flush()
    stream.push_frame(rtc.AudioFrame(data=bytes(per * 2), sample_rate=16_000, num_channels=1,
                                     samples_per_channel=per))
    stream.end_input()
    events = [ev async for ev in stream]
    await stream.aclose()
    after_flush = [ev for ev in events if ev.type is vad.VADEventType.INFERENCE_DONE][-1]
    assert after_flush.speaking is False and after_flush.timestamp < 0.1


def test_resampling_keeps_time_and_shape() -> None:
    tone = (1000 * np.sin(2 * np.pi * 440 * np.arange(24_000) / 24_000)).astype(np.int16)
    resampler = Resampler(24_000)
    out = np.concatenate([resampler.push(tone[i:i + 1200]) for i in range(0, len(tone), 1200)])
    assert len(out) == MODEL_RATE
    expected = 1000 * np.sin(2 * np.pi * 440 * np.arange(MODEL_RATE) / MODEL_RATE)
    assert np.max(np.abs(out[1:] - expected[1:])) < 60  # linear interpolation of a 440 Hz tone, across frames


async def test_options_reach_open_streams() -> None:
    detector = InlineSileroVAD()
    assert detector.options.release_threshold == pytest.approx(0.35)
    stream = detector.stream()
    detector.update_options(min_silence_duration=0.8)
    await stream.aclose()
    assert stream.options.min_silence_duration == 0.8
    assert detector.min_silence_duration == 0.8
