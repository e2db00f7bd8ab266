"""Plate text as people type it and as the platform compares it.

``ABC-123``, ``abc 123`` and ``A.B.C123`` are one plate: the normalised form keeps letters and digits
only, upper-cased (after NFKC, so full-width and compatibility characters fold to their plain form).
Search, watchlists and unique-plate counts all use it; the text the edge worker read is kept as sent.
"""

from __future__ import annotations

import unicodedata

GRAM = 3


def normalize_plate(text: str) -> str:
    """The comparable form of a plate: letters and digits only, upper case."""
    folded = unicodedata.normalize("NFKC", text).upper()
    return "".join(char for char in folded if char.isalnum())


def trigrams(normalized: str) -> list[str]:
    """The distinct three-character substrings of a normalised plate, sorted.

    Stored beside each event in a GIN-indexed array, they make partial plate search an index lookup
    (every trigram of the query must be among the event's) on any PostgreSQL, with no extension: the
    embedded server has no ``pg_trgm``. Queries shorter than three characters do not use them.
    """
    return sorted({normalized[i : i + GRAM] for i in range(len(normalized) - GRAM + 1)})
