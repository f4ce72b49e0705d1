"""Similarity of short texts by character n-grams: works for Chinese without word splitting.

``similarity("3幢门口路灯不亮", "三幢门口的路灯坏了不亮")`` is high, unrelated texts score
near 0. Pure functions; used on intake to suggest open requests the resident could join.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable

_CN_DIGITS = str.maketrans("零一二三四五六七八九", "0123456789")


def normalise(text: str) -> str:
    """NFKC, lower case, Chinese digits as Arabic, letters and digits only."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_CN_DIGITS)
    return "".join(ch for ch in text if ch.isalnum())


def ngrams(text: str, n: int = 2) -> Counter[str]:
    """Character n-grams of the normalised text (the text itself when shorter than n)."""
    norm = normalise(text)
    if len(norm) < n:
        return Counter([norm]) if norm else Counter()
    return Counter(norm[i : i + n] for i in range(len(norm) - n + 1))


def similarity(a: str, b: str, n: int = 2) -> float:
    """Dice coefficient of the two texts' n-gram multisets, from 0.0 to 1.0."""
    ga, gb = ngrams(a, n), ngrams(b, n)
    total = sum(ga.values()) + sum(gb.values())
    if total == 0:
        return 0.0
    shared = sum((ga & gb).values())
    return 2 * shared / total


def rank_similar(
    text: str, candidates: Iterable[tuple[int, str]], *, threshold: float = 0.25, limit: int = 5
) -> list[tuple[int, float]]:
    """Candidates scoring at least ``threshold``, best first: ``[(id, score), …]``."""
    scored = [(key, similarity(text, other)) for key, other in candidates]
    kept = [(key, round(score, 3)) for key, score in scored if score >= threshold]
    kept.sort(key=lambda item: (-item[1], -item[0]))
    return kept[:limit]
