"""LearningCurve.with_fit_part, the one way to cut a curve's fitting part, and curve_list.

with_fit_part replaced three cutters; each keeps its semantics here: ``x_max`` is the old
``truncate_fit`` (studies.lang) and ``cut_fit`` (laws.released) -- fitting points with x > x_max
dropped, held-out points kept; ``fraction`` is the old ``truncated_curve`` (studies.sensitivity) --
the first floor(fraction * n_fit) fitting points kept, held-out points kept.
"""

from types import SimpleNamespace

import numpy as np
import pytest

from scaling.benchmark import LearningCurve, curve_list


def _curve(is_fit, n_duplicates_removed=2):
    """A curve with x = 1..n and the given fitting mask (held-out points may sit between fitting ones)."""
    is_fit = np.asarray(is_fit, dtype=bool)
    x = np.arange(1.0, is_fit.size + 1)
    loss = 1.0 / x
    for a in (x, loss, is_fit):
        a.setflags(write=False)
    return LearningCurve("IC", "inet_10", "BiT/101/3", "ImageNet", 10, x, loss, is_fit, n_duplicates_removed)


# fit, fit, held out, fit, fit, held out, fit (x = 1..7): a held-out point below the cut must stay too
MIXED = [True, True, False, True, True, False, True]


@pytest.mark.parametrize("x_max, fit_x", [(4.0, [1, 2, 4]), (4.5, [1, 2, 4]), (1.0, [1]), (7.0, [1, 2, 4, 5, 7]),
                                          (1e9, [1, 2, 4, 5, 7])])
def test_x_max_drops_only_fitting_points_above_it(x_max, fit_x):
    curve = _curve(MIXED)
    part = curve.with_fit_part(x_max)
    np.testing.assert_array_equal(part.x_fit, fit_x)  # x == x_max is kept (x <= x_max)
    np.testing.assert_array_equal(part.loss_fit, 1.0 / np.asarray(fit_x, dtype=float))
    np.testing.assert_array_equal(part.x_test, [3, 6])
    np.testing.assert_array_equal(part.loss_test, curve.loss_test)
    assert np.all(np.diff(part.x) > 0)


@pytest.mark.parametrize("fraction, kept", [(0.25, 3), (0.3, 3), (0.5, 6), (0.75, 9), (1.0, 12), (1 / 12, 1)])
def test_fraction_keeps_the_floor_of_the_fitting_points_with_the_smallest_x(fraction, kept):
    curve = _curve([True] * 6 + [False] + [True] * 6 + [False] * 3)  # 12 fitting points, 4 held out
    part = curve.with_fit_part(fraction=fraction)
    assert part.n_fit == kept  # 0.75 * 12 stays 9 despite rounding (0.75 * 12 = 8.999...)
    np.testing.assert_array_equal(part.x_fit, curve.x_fit[:kept])
    np.testing.assert_array_equal(part.x_test, curve.x_test)
    np.testing.assert_array_equal(part.loss_test, curve.loss_test)


@pytest.mark.parametrize("cut", [{"x_max": 4.0}, {"fraction": 0.5}])
def test_the_cut_is_a_new_read_only_curve_with_the_same_identity(cut):
    curve = _curve(MIXED)
    before = curve.x.copy(), curve.is_fit.copy()
    part = curve.with_fit_part(**cut)
    assert isinstance(part, LearningCurve) and part is not curve
    assert (part.key, part.label, part.task_name, part.shots, part.n_duplicates_removed) == \
           (curve.key, curve.label, curve.task_name, curve.shots, curve.n_duplicates_removed)
    assert not any(a.flags.writeable for a in (part.x, part.loss, part.is_fit))
    np.testing.assert_array_equal(curve.x, before[0])
    np.testing.assert_array_equal(curve.is_fit, before[1])


def test_a_cut_that_leaves_no_fitting_point_says_so():
    curve = _curve(MIXED)
    with pytest.raises(ValueError, match="removes every fitting point.*no fitting point"):
        curve.with_fit_part(0.5)
    with pytest.raises(ValueError, match="keeps none"):
        _curve([True] * 3 + [False]).with_fit_part(fraction=0.25)


@pytest.mark.parametrize("kwargs, message", [
    ({}, "exactly one"), ({"x_max": 3.0, "fraction": 0.5}, "exactly one"),
    ({"x_max": "big"}, "x_max must be a number"), ({"x_max": np.nan}, "x_max must be a number"),
    ({"fraction": 0.0}, "fraction"), ({"fraction": -0.5}, "fraction"), ({"fraction": 1.5}, "fraction"),
    ({"fraction": np.nan}, "fraction"), ({"fraction": "half"}, "fraction"),
])
def test_bad_cuts_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _curve(MIXED).with_fit_part(**kwargs)


def test_curve_list_takes_a_benchmark_or_curves():
    a, b = _curve(MIXED), _curve([True, False])
    assert curve_list([a, b]) == [a, b]
    assert curve_list((c for c in (a, b))) == [a, b]
    assert curve_list(SimpleNamespace(curves=(a, b))) == [a, b]
    given = [a]
    assert curve_list(given) is not given  # a new list: callers may extend or filter it
