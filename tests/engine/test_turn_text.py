from pathlib import Path

import pytest
import yaml

from engine.turn_text import WORDS_FILE, ends_unfinished, last_words, unfinished_words


@pytest.mark.parametrize("text", [
    "I built the payments service in Go and",
    "we moved it to Kubernetes last year because",
    "My first step would be to look at",
    "The hardest part of that project was",
    "I think the main trade off was between consistency and",
    "If two services disagree I would",
    "so I went with the, um",
    "And then we, uh...",
    "We picked it because it's",
    "The cache sits in front of the",
    "Then I —",
])
def test_a_transcript_that_stops_where_no_sentence_ends_is_unfinished(text: str) -> None:
    assert ends_unfinished(text)


@pytest.mark.parametrize("text", [
    "I mostly work in Python.",
    "It was caused by a full disk on the primary database.",
    "It was worth it, and so on.",
    "We rolled it back and moved on.",  # particles end finished sentences: left to the audio model
    "Yes, I did.",
    "I set it up.",
    "That is all I can say about that.",
    "",
    "   ",
    "42",
])
def test_a_transcript_ending_on_any_other_word_is_not_called_unfinished(text: str) -> None:
    assert not ends_unfinished(text)


def test_case_punctuation_and_curly_apostrophes_do_not_matter() -> None:
    assert last_words("We THINK IT’S,  ") == ["think", "it's"]
    assert ends_unfinished("So the plan WAS?!") and ends_unfinished("Because, ")


def test_two_word_connectives_count_where_their_last_word_alone_would_not() -> None:
    assert ends_unfinished("I wrote a failing test so that") and ends_unfinished("We read the logs, and then")
    assert not ends_unfinished("I never did that.") and not ends_unfinished("It was slower back then.")
    assert "that" not in unfinished_words() and "so that" in unfinished_words()


def test_a_transcript_ending_on_something_else_than_a_word_has_no_last_word() -> None:
    assert last_words("The answer is 42.") == [] and not ends_unfinished("and 42")
    assert last_words("") == [] and last_words("and") == ["and"]


def test_the_word_list_is_data_grouped_by_word_class_and_can_be_replaced(tmp_path: Path) -> None:
    classes = yaml.safe_load(WORDS_FILE.read_text())
    assert {"conjunctions", "prepositions", "determiners", "fillers"} <= set(classes)
    assert all(w == w.lower() for words in classes.values() for w in words)
    other = tmp_path / "words.yaml"
    other.write_text("conjunctions: [And]\n")
    words = unfinished_words(other)
    assert words == frozenset({"and"})
    assert ends_unfinished("salt and", words) and not ends_unfinished("salt and the", words)
