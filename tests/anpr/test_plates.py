"""Plate normalisation: how a typed plate and a read plate become comparable."""

from __future__ import annotations

import pytest

from anpr.plates import normalize_plate, trigrams


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("ABC-123", "ABC123"),
        ("abc123", "ABC123"),
        ("abc 123", "ABC123"),
        ("A.B.C 1-2-3", "ABC123"),
        ("  kl m\t456 ", "KLM456"),
        ("\uff21\uff22\uff23\uff11\uff12\uff13", "ABC123"),  # full-width characters fold to plain ones
        ("ąčę-12", "ĄČĘ12"),  # letters of other alphabets are kept
        ("--- ...", ""),
    ],
)
def test_normalize_plate(text, normalized):
    assert normalize_plate(text) == normalized


def test_trigrams_are_the_distinct_three_character_substrings():
    assert trigrams("ABC123") == ["123", "ABC", "BC1", "C12"]


def test_trigrams_of_a_repeating_plate_are_distinct():
    assert trigrams("AAAA") == ["AAA"]


def test_plates_shorter_than_three_characters_have_no_trigrams():
    assert trigrams("AB") == []
