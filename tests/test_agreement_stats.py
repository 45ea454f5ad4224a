"""Agreement statistics against published and hand-computed values, and their properties."""

from __future__ import annotations

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from hypothesis.extra.numpy import arrays

from qualcode.agreement import stats as st

NAN = np.nan


def test_cohen_kappa_and_alpha_of_a_three_by_three_table():
    ratings = st.ratings_from_table([[13, 0, 0], [0, 20, 7], [0, 4, 56]])
    assert st.cohen_kappa(ratings) == pytest.approx(0.7964, abs=5e-5)
    assert st.krippendorff_alpha(ratings) == pytest.approx(0.7973, abs=5e-5)


def test_kappa_when_a_codes_150_b_codes_100_and_both_50_of_1000():
    a = np.zeros(1000, int)
    b = np.zeros(1000, int)
    a[:150] = 1
    b[:50] = 1
    b[150:200] = 1
    figures = st.statistics(st.sums(st.Patterns.from_ratings(np.stack([a, b], 1), 2)))
    assert figures["percent_agreement"][0] == pytest.approx(0.85)
    assert figures["cohen_kappa"][0] == pytest.approx(0.318, abs=5e-4)
    # Brennan-Prediger by hand: (0.85 - 1/2) / (1 - 1/2); AC1 by hand: pi = 0.125.
    assert figures["brennan_prediger"][0] == pytest.approx(0.70)
    pe = 2 * 0.125 * 0.875
    assert figures["gwet_ac1"][0] == pytest.approx((0.85 - pe) / (1 - pe))


# Krippendorff (2011), "Computing Krippendorff's alpha-reliability": four observers, twelve
# units, values 1..5, missing data; nominal alpha 0.743.
KRIPPENDORFF_MISSING = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
        [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
    ]
)


def _to_ratings(observers_by_units: np.ndarray) -> np.ndarray:
    filled = np.where(np.isnan(observers_by_units), 0, observers_by_units)
    return np.where(np.isnan(observers_by_units), st.MISSING, filled - 1).T.astype(int)


def test_krippendorffs_worked_example_with_missing_data():
    ratings = _to_ratings(KRIPPENDORFF_MISSING)
    assert st.krippendorff_alpha(ratings, 5) == pytest.approx(0.743, abs=5e-4)
    package = krippendorff.alpha(
        reliability_data=KRIPPENDORFF_MISSING, level_of_measurement="nominal"
    )
    assert st.krippendorff_alpha(ratings, 5) == pytest.approx(package, abs=1e-12)


def test_krippendorffs_binary_example():
    # Two observers, ten units, binary: alpha 0.095 in the same paper.
    a = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    b = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    assert st.krippendorff_alpha(np.array([a, b]).T, 2) == pytest.approx(0.095, abs=5e-4)


# Fleiss (1971), Table 1: 30 patients, 6 psychiatrists each, 5 diagnoses (counts per category).
FLEISS_1971 = [
    [0, 0, 0, 6, 0], [0, 3, 0, 0, 3], [0, 1, 4, 0, 1], [0, 0, 0, 0, 6], [0, 3, 0, 3, 0],
    [2, 0, 4, 0, 0], [0, 0, 4, 0, 2], [2, 0, 3, 1, 0], [2, 0, 0, 4, 0], [0, 0, 0, 0, 6],
    [1, 0, 0, 5, 0], [1, 1, 0, 4, 0], [0, 3, 3, 0, 0], [1, 0, 0, 5, 0], [0, 2, 0, 3, 1],
    [0, 0, 5, 0, 1], [3, 0, 0, 1, 2], [5, 1, 0, 0, 0], [0, 2, 0, 4, 0], [1, 0, 2, 0, 3],
    [0, 0, 0, 0, 6], [0, 1, 0, 5, 0], [0, 2, 0, 1, 3], [2, 0, 0, 4, 0], [1, 0, 0, 4, 1],
    [0, 5, 0, 1, 0], [4, 0, 0, 0, 2], [0, 2, 0, 4, 0], [1, 0, 5, 0, 0], [0, 0, 0, 0, 6],
]  # fmt: skip


def test_fleiss_original_example():
    ratings = st.ratings_from_counts(FLEISS_1971)
    assert ratings.shape == (30, 6)
    assert st.fleiss_kappa(ratings, 5) == pytest.approx(0.4302, abs=5e-5)


def test_fleiss_fourteen_raters_example():
    table = [
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ]  # fmt: skip
    assert st.fleiss_kappa(st.ratings_from_counts(table), 5) == pytest.approx(0.210, abs=5e-4)


def test_gwet_ac1_by_hand():
    # pa = 2/3; pi(1) = (0 + 1 + 1/2) / 3 = 1/2; pe = 2 * 1/4 = 1/2; AC1 = (2/3 - 1/2) / (1/2).
    assert st.gwet_ac1(np.array([[0, 0], [1, 1], [0, 1]]), 2) == pytest.approx(1 / 3)


def test_no_variation_is_undefined_not_a_number():
    never = np.zeros((20, 2), int)
    figures = st.statistics(st.sums(st.Patterns.from_ratings(never, 2)))
    for name in ("cohen_kappa", "fleiss_kappa", "krippendorff_alpha"):
        assert np.isnan(figures[name][0])
    assert figures["percent_agreement"][0] == 1.0
    assert figures["gwet_ac1"][0] == 1.0


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 2, 300)
    b = np.where(rng.random(300) < 0.8, a, 1 - a)
    patterns = st.Patterns.from_ratings(np.stack([a, b], 1), 2)
    point = st.statistics(st.sums(patterns))["cohen_kappa"][0]

    def ci(seed):
        w = st.bootstrap_weights(300, 500, seed)
        return st.interval(st.statistics(st.sums(patterns, patterns.resample(w)))["cohen_kappa"])

    assert ci(7) == ci(7)
    assert ci(7) != ci(8)
    low, high = ci(7)
    assert low < point < high
    assert 0.1 < high - low < 0.4


ratings_strategy = arrays(
    np.int64,
    hs.tuples(hs.integers(5, 40), hs.just(2)),
    elements=hs.integers(0, 2),
)


@settings(max_examples=60, deadline=None)
@given(ratings_strategy)
def test_swapping_coders_changes_nothing(ratings):
    one = st.statistics(st.sums(st.Patterns.from_ratings(ratings, 3)))
    two = st.statistics(st.sums(st.Patterns.from_ratings(ratings[:, ::-1], 3)))
    for name in st.STATISTICS:
        # the same up to the order of floating-point sums (a kappa of 0 came out as -1e-16)
        np.testing.assert_allclose(one[name], two[name], atol=1e-12, equal_nan=True)


@settings(max_examples=60, deadline=None)
@given(ratings_strategy)
def test_a_coder_agrees_perfectly_with_itself(ratings):
    same = np.stack([ratings[:, 0], ratings[:, 0]], 1)
    figures = st.statistics(st.sums(st.Patterns.from_ratings(same, 3)))
    assert figures["percent_agreement"][0] == 1.0
    if len(set(ratings[:, 0])) > 1:  # kappa needs some variation to be defined
        assert figures["cohen_kappa"][0] == pytest.approx(1.0)
        assert figures["krippendorff_alpha"][0] == pytest.approx(1.0)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
@settings(max_examples=60, deadline=None)
@given(
    arrays(np.int64, hs.tuples(hs.integers(3, 30), hs.integers(2, 4)), elements=hs.integers(-1, 2))
)
def test_alpha_equals_the_krippendorff_package_with_missing_data(ratings):
    data = np.where(ratings == st.MISSING, np.nan, ratings.astype(float)).T
    try:
        expected = krippendorff.alpha(
            reliability_data=data, level_of_measurement="nominal", value_domain=[0, 1, 2]
        )
    except ValueError:  # the package refuses data with fewer than two pairable values
        return
    ours = st.krippendorff_alpha(ratings, 3)
    if np.isnan(ours):
        assert np.isnan(expected) or not np.isfinite(expected)
    else:
        assert ours == pytest.approx(expected, abs=1e-9)
