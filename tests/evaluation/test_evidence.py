"""Evidence verification: quotes must be the candidate's own words; fabricated ones are dropped and counted; a
quote is read in its sentence; a restated claim is found in the candidate's words."""

from __future__ import annotations

import pytest

from engine.transcript import Speaker, Turn
from evaluation.evidence import CandidateText, normalise
from evaluation.judge import Quote

TURNS = [
    Turn(index=0, speaker=Speaker.AGENT, text="Do you know what a token bucket per client is?"),
    Turn(index=1, speaker=Speaker.CANDIDATE, text="Honestly — I'd use a Token-Bucket, per client;   stored in Redis."),
    Turn(index=2, speaker=Speaker.CANDIDATE, text="We didn’t concatenate the logs, we streamed them."),
]


def test_normalise_case_punctuation_whitespace() -> None:
    assert normalise("  I'd use a Token-Bucket,\n per  CLIENT! ") == "id use a token bucket per client"
    assert normalise("didn’t") == normalise("didn't") == "didnt"


@pytest.mark.parametrize("quote", [
    "i'd use a token bucket per client",
    "I'd use a token-bucket, per client; stored in redis",
    "ID USE A TOKEN BUCKET",
    "we didnt concatenate the logs",
])
def test_quotes_match_after_normalising(quote: str) -> None:
    assert CandidateText(TURNS).find(Quote(turn=1, quote=quote)) is not None


@pytest.mark.parametrize(("quote", "why"), [
    ("I would use a leaky bucket per client", "never said"),
    ("what a token bucket per client is", "the interviewer said it, not the candidate"),
    ("token bucket", "too short to prove anything"),
    ("we didnt cat the logs", "not the same words"),
    ("didnt concat the logs", "a word cut in half is not a match"),
])
def test_fabricated_quotes_are_not_found(quote: str, why: str) -> None:
    assert CandidateText(TURNS).find(Quote(turn=1, quote=quote)) is None, why


def test_verified_quote_is_the_transcripts_own_words_with_its_span() -> None:
    ev = CandidateText(TURNS).find(Quote(turn=1, quote="id use a token bucket per client stored in redis"))
    assert ev is not None
    assert ev.quote == "I'd use a Token-Bucket, per client;   stored in Redis"
    assert TURNS[1].text[ev.start:ev.end] == ev.quote


def test_a_true_quote_cited_with_the_wrong_turn_is_reattributed() -> None:
    ev = CandidateText(TURNS).find(Quote(turn=7, quote="we streamed them"))
    assert ev is not None and ev.turn == 2


def test_verify_drops_counts_and_merges() -> None:
    text = CandidateText(TURNS)
    found, dropped = text.verify([Quote(turn=1, quote="a token bucket per client"),
                                  Quote(turn=1, quote="I have built Kafka clusters at Google scale"),
                                  Quote(turn=1, quote="A TOKEN-BUCKET PER CLIENT")])
    assert [e.quote for e in found] == ["a Token-Bucket, per client"]  # the same words twice are one piece
    assert dropped == 1


def test_a_quote_with_a_slip_stands_for_the_run_the_candidate_said() -> None:
    text = CandidateText(TURNS)
    ev = text.find(Quote(turn=2, quote="so we didnt concatenate the logs we streamed"))
    assert ev is not None and ev.quote == "We didn’t concatenate the logs, we streamed"
    assert text.find(Quote(turn=2, quote="we concatenated every log file into one archive")) is None


def test_a_quote_is_read_in_its_sentence() -> None:
    text = CandidateText([Turn(index=4, speaker=Speaker.CANDIDATE, text="I used Kafka. Keys go to partitions by "
                                                                        "hash. It was fine!")])
    ev = text.find(Quote(turn=4, quote="keys go to partitions"))
    assert ev is not None and text.sentence(ev) == "Keys go to partitions by hash."


def test_a_restated_claim_is_found_in_the_candidates_sentence() -> None:
    said = "Honestly, POST requests are idempotent by design in HTTP, so a client retry won't double charge."
    text = CandidateText([Turn(index=3, speaker=Speaker.CANDIDATE, text=said)])
    ev = text.find_claim(Quote(quote="POST requests are idempotent by HTTP design, so retries cannot double charge"))
    assert ev is not None and ev.quote == said
    assert text.find_claim(Quote(quote="PUT requests must carry an idempotency key in a header")) is None
