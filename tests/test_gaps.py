"""fill_gaps: interpolation inside the training part, the last value carried forward elsewhere, no leakage."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_studio.training.gaps import fill_gaps

nan = np.nan


def filled(values, train_end):
    return fill_gaps(np.array(values, dtype=float), train_end)


def reference(values, train_end):
    """fill_gaps written as a plain loop over the gaps, straight from the rule."""
    out, n = list(values), len(values)
    known = [k for k in range(n) if not np.isnan(values[k])]
    for k in range(n):
        if not np.isnan(values[k]):
            continue
        before = [j for j in known if j < k]
        after = [j for j in known if j > k]
        if not before:
            out[k] = values[known[0]]
        elif after and after[0] < train_end:
            lo, hi = before[-1], after[0]
            out[k] = values[lo] + (k - lo) / (hi - lo) * (values[hi] - values[lo])
        else:
            out[k] = values[before[-1]]
    return out


@pytest.mark.parametrize(
    ("values", "train_end", "expected"),
    [
        ([1, nan, 3], 3, [1, 2, 3]),  # inside training: interpolated
        ([0, nan, nan, nan, 8, 9], 5, [0, 2, 4, 6, 8, 9]),
        ([0, nan, nan, nan, 8, 9], 4, [0, 0, 0, 0, 8, 9]),  # the next value is validation's: carried forward
        ([0, nan, nan, nan, 8, 9], 2, [0, 0, 0, 0, 8, 9]),  # straddling the boundary
        ([5, 6, nan, 8], 2, [5, 6, 6, 8]),  # in validation: the last value, never the next
        ([1, 2, nan, nan], 4, [1, 2, 2, 2]),  # trailing gaps, even in training
        ([nan, nan, 3, 4, nan, 6], 6, [3, 3, 3, 4, 5, 6]),  # leading gaps: the first value, a training value
        ([nan, 3, 4], 2, [3, 3, 4]),
        ([1, 2, 3], 1, [1, 2, 3]),  # nothing to fill
        ([1, nan, 3], 0, [1, 1, 3]),  # all validation
        ([-1e100, nan, 1e100], 3, [-1e100, 0, 1e100]),  # the reader's extremes do not overflow
    ],
)
def test_each_kind_of_gap(values, train_end, expected):
    result, count = filled(values, train_end)
    np.testing.assert_array_equal(result, expected)
    assert count == int(np.isnan(values).sum())


def test_the_input_is_left_alone_and_a_copy_comes_back():
    values = np.array([1, nan, 3.0])
    result, count = fill_gaps(values, 3)
    assert np.isnan(values[1]) and count == 1 and result.dtype == np.float64
    result, count = fill_gaps(np.array([1.0, 2.0]), 2)
    assert count == 0
    result[0] = 9
    result, _ = fill_gaps(np.array([1, 2]), 1)  # integers: floats come back
    assert result.dtype == np.float64


def test_validation_values_never_reach_an_earlier_filled_value():
    values = np.array([1, 2, nan, 4, nan, nan, 7, nan, 9, 10], dtype=float)
    train_end = 5
    base, _ = fill_gaps(values, train_end)
    for changed in (6, 8, 9):  # each known validation value in turn
        other = values.copy()
        other[changed] = 1000.0
        result, _ = fill_gaps(other, train_end)
        np.testing.assert_array_equal(result[:changed], base[:changed])
    other = values.copy()
    other[3] = -50.0  # a training value: it may move the gaps around it, and none of validation's after 6
    result, _ = fill_gaps(other, train_end)
    assert result[2] != base[2] and result[4] == result[5] == -50.0


@pytest.mark.parametrize(
    ("values", "train_end", "message"),
    [
        ([nan, nan, 3], 2, "the series starts with 2 missing values: its training part (the first 2) holds no number"),
        ([nan, nan], 2, "the series starts with 2 missing values: its training part (the first 2) holds no number"),
        ([nan, 1], 0, "the series starts with 1 missing value and has no training part to fill them from"),
        ([[1.0]], 1, "fill_gaps takes a 1-D series, not an array of shape (1, 1)"),
        ([1, nan], 3, "train_end must lie between 0 and the series' length 2, not 3"),
        ([1, nan], -1, "train_end must lie between 0 and the series' length 2, not -1"),
        ([1, np.inf, nan], 3, "fill_gaps takes finite values and NaN at gaps, not infinities"),
    ],
)
def test_what_cannot_be_filled(values, train_end, message):
    with pytest.raises(ValueError) as caught:
        filled(values, train_end)
    assert str(caught.value).startswith(message)


def test_empty_and_gapless_series():
    result, count = fill_gaps(np.zeros(0), 0)
    assert result.shape == (0,) and count == 0


def test_ten_million_values_take_a_moment():
    rng = np.random.default_rng(0)
    values = rng.normal(size=10_000_000)
    values[rng.random(len(values)) < 0.1] = nan
    result, count = fill_gaps(values, 8_000_000)
    assert count == int(np.isnan(values).sum()) and not np.isnan(result).any()


SERIES = st.lists(st.one_of(st.just(nan), st.integers(-1000, 1000).map(float)), min_size=1, max_size=40)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(SERIES, st.data())
def test_fuzz_agrees_with_the_loop_and_never_looks_ahead(values, data):
    values = np.array(values)
    train_end = data.draw(st.integers(0, len(values)))
    known = np.flatnonzero(~np.isnan(values))
    if not len(known) or (np.isnan(values[0]) and known[0] >= train_end):
        with pytest.raises(ValueError):
            fill_gaps(values, train_end)
        return
    result, count = fill_gaps(values, train_end)
    np.testing.assert_allclose(result, reference(values, train_end), rtol=1e-12, atol=1e-9)
    assert count == int(np.isnan(values).sum()) and np.all(np.isfinite(result))
    assert np.array_equal(result[~np.isnan(values)], values[~np.isnan(values)])
    # a known validation value changed: nothing before it changes
    for j in known[known >= train_end]:
        other = values.copy()
        other[j] += 7
        np.testing.assert_array_equal(fill_gaps(other, train_end)[0][:j], result[:j])
