"""Reply timing: every answer's wait until the agent speaks, from the audio, talk-overs apart."""

from __future__ import annotations

import numpy as np

from sima.simulation.timing import ReplyTiming, voiced_seconds


def test_the_synthesisers_padding_is_not_speech() -> None:
    rate = 1000
    padded = np.concatenate([np.zeros(100), 5000 * np.ones(400), 100 * np.ones(300)]).astype(np.int16)
    assert voiced_seconds(padded, rate) == 0.5
    assert voiced_seconds(np.zeros(50, dtype=np.int16), rate) == 0.0


def test_each_answer_is_timed_to_the_first_reply_after_its_last_word() -> None:
    timing = ReplyTiming()
    timing.reply(1.0)  # the greeting: no answer before it
    timing.answer(start=5.0, end=9.0)
    timing.reply(9.6)
    timing.reply(12.0)  # a second announcement, no new answer: not a wait
    timing.answer(start=15.0, end=21.0)
    timing.reply(17.0)  # the agent spoke into a pause of the answer ...
    timing.reply(22.1)  # ... and answered the rest once it was over
    timing.answer(start=30.0, end=33.0)  # the session closed: no reply
    summary = timing.summary()
    assert summary.delays_s == [0.6, 1.1]
    assert summary.talk_overs == 1
    assert summary.answers == 3  # every answer spoken, replied to or not


def test_the_words_of_each_answer_come_in_the_order_spoken() -> None:
    timing = ReplyTiming()
    timing.answer(start=3.0, end=4.0, text="Second.")  # noted as its audio finished, which may be out of order
    timing.answer(start=0.0, end=2.0, text="First.")
    assert timing.summary().said == ["First.", "Second."]


def test_a_reply_to_the_next_answer_is_not_this_ones() -> None:
    timing = ReplyTiming()
    timing.answer(start=0.0, end=2.0)
    timing.answer(start=3.0, end=4.0)  # the candidate went on before any reply
    timing.reply(4.5)
    assert timing.summary().delays_s == [0.5]
