"""Similarity of short texts by character n-grams (Dice): the properties duplicates rely on."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gongzhi.tickets.similarity import ngrams, normalise, rank_similar, similarity

# Requests are mostly Chinese with digits, Latin letters and punctuation mixed in.
ALPHABET = st.sampled_from(
    list("路灯不亮门口幢单元楼道垃圾桶电线杆倾斜漏水停车三五零一二abcXYZ0123456789 ，。！、-()（）")
)
texts = st.text(alphabet=ALPHABET, max_size=40) | st.text(max_size=40)
sizes = st.integers(min_value=1, max_value=4)


@given(texts, texts, sizes)
def test_similarity_is_symmetric(a: str, b: str, n: int):
    assert similarity(a, b, n) == similarity(b, a, n)


@given(texts, texts, sizes)
def test_similarity_lies_between_0_and_1(a: str, b: str, n: int):
    assert 0.0 <= similarity(a, b, n) <= 1.0


@given(texts, sizes)
def test_a_text_is_identical_to_itself(a: str, n: int):
    # Text made only of punctuation and spaces has nothing to compare and scores 0.
    assert similarity(a, a, n) == (1.0 if normalise(a) else 0.0)


def test_punctuation_spaces_width_and_case_do_not_count():
    assert similarity("3幢门口路灯不亮ABC", "３幢，门口 路灯不亮！abc") == 1.0


def test_chinese_and_arabic_digits_are_the_same_number():
    assert normalise("三幢二单元") == "3幢2单元"
    assert similarity("3幢门口路灯不亮", "三幢门口路灯不亮") == 1.0


def test_a_near_duplicate_scores_well_above_an_unrelated_request():
    asked = "3幢门口路灯不亮"
    near = similarity(asked, "三幢门口的路灯坏了，晚上不亮")
    unrelated = similarity(asked, "楼道里堆满了旧家具和纸箱")
    assert near > 0.5
    assert unrelated == 0.0


@given(texts, texts)
def test_sharing_nothing_scores_0(a: str, b: str):
    if not (ngrams(a) & ngrams(b)):
        assert similarity(a, b) == 0.0
    else:
        assert similarity(a, b) > 0.0


entries = st.lists(
    st.tuples(st.integers(min_value=1, max_value=10_000), texts), max_size=12, unique_by=lambda e: e[0]
)


@given(texts, entries, st.integers(min_value=1, max_value=6))
def test_ranking_keeps_the_best_above_the_threshold_best_first(text: str, others, limit: int):  # type: ignore[no-untyped-def]
    ranked = rank_similar(text, others, threshold=0.25, limit=limit)
    scores = [score for _, score in ranked]
    assert len(ranked) <= limit
    assert all(score >= 0.25 for score in scores)
    assert scores == sorted(scores, reverse=True)
    kept = {key for key, _ in ranked}
    for key, other in others:
        if key in kept:
            continue
        left_out = round(similarity(text, other), 3)
        # Left out: too low, or the list was full of requests at least as similar.
        assert left_out < 0.25 or (len(ranked) == limit and left_out <= scores[-1])
