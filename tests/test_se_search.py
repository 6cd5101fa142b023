"""Tests of scaling.ledger.se_search: every candidate "±" formula on tiny hand-made cells, the scoring rule,
the family's bookkeeping, and (with the benchmark) the released formula on the released fits."""

import math
import os
import statistics

import numpy as np
import pandas as pd
import pytest

from scaling.evaluate import rmse_standard_error
from scaling.ledger.se_search import (
    COMPONENTS, RELEASED, SEFormula, cell_stats, cell_table, notebook_bound, predictions_from_params,
    reproduced, se_candidates, se_value, search_se, search_summary,
)
from scaling.ledger.se_search import _best_factor, _select

# ---------------------------------------------------------------------------------------------
# A tiny cell: 2 fitting points, 3 held-out points with log errors 0.1, -0.2, 0.3
# ---------------------------------------------------------------------------------------------
X = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
FIT = np.array([True, True, False, False, False])
Y = np.array([0.5, 0.5, 0.5, 0.4, 0.3])
D = np.array([0.05, -0.05, 0.1, -0.2, 0.3])  # ln(pred) - ln(y)
PRED = Y * np.exp(D)
TEST_D = [0.1, -0.2, 0.3]


def _hand_value(f: SEFormula, r: list[float]) -> float:
    """The formula computed by hand, with the standard library only (no numpy, no module code)."""
    n = len(r)
    sq = [v * v for v in r]
    mu = sum(sq) / n
    q = {"sq": sq, "abs": [abs(v) for v in r], "signed": list(r)}.get(f.quantity)
    if f.quantity == "rmse":
        assert f.spread == "jackknife"
        loo = [math.sqrt((sum(sq) - e) / (n - 1)) for e in sq]
        m = sum(loo) / n
        spread = math.sqrt((n - 1) / n * sum((v - m) ** 2 for v in loo))
    elif f.spread == "std0":
        spread = statistics.pstdev(q)
    elif f.spread == "std1":
        spread = statistics.stdev(q)
    else:
        m = sum(q) / n
        spread = sum(abs(v - m) for v in q) / n
    div = {"sqrt_n": math.sqrt(n), "sqrt_n1": math.sqrt(n - 1), "one": 1.0, "n": float(n)}[f.divisor]
    # t_{0.975, 2} = 4.302652729911275 (n = 3 points: 2 degrees of freedom)
    mult = 4.302652729911275 if f.multiplier == "t95" else float(f.multiplier)
    w = mult * spread / div
    root = math.sqrt(mu)
    upper = math.sqrt(mu + w) - root
    lower = root - math.sqrt(max(mu - w, 0.0))
    return {"direct": w, "upper": upper, "lower": lower, "half": (upper + lower) / 2,
            "full": upper + lower, "delta": w / (2 * root), "root": math.sqrt(w)}[f.mapping]


def test_released_formula_by_hand_on_the_tiny_cell():
    # e = 0.01, 0.04, 0.09: mu = 0.14/3, population std 0.0329983, sqrt(mu) = 0.2160247
    mu, s = 0.14 / 3, 0.03299831645537222
    expected = math.sqrt(mu + s / math.sqrt(3)) - math.sqrt(mu)
    assert expected == pytest.approx(0.0403311, abs=1e-7)
    assert se_value(RELEASED, X, Y, PRED, FIT) == pytest.approx(expected, rel=1e-12)
    assert RELEASED.name == "test|ln|sq|std0|sqrt_n|x1|upper"


@pytest.mark.parametrize("name, expected", [
    ("test|ln|signed|std1|sqrt_n|x1|direct", 0.25166114784235827 / math.sqrt(3)),  # SE of the mean log error
    ("test|ln|abs|std0|one|x1|direct", 0.08164965809277261),                      # std of |r|: 0.1, 0.2, 0.3
    ("test|ln|sq|meandev|n|x2|direct", 2 * (0.11 / 3 + 0.02 / 3 + 0.13 / 3) / 3 / 3),
    ("test|ln|sq|std1|sqrt_n1|x1.96|delta", 1.96 * 0.04041451884327381 / math.sqrt(2) / (2 * math.sqrt(0.14 / 3))),
    ("test|ln|sq|std0|one|x1|root", math.sqrt(0.03299831645537222)),
])
def test_some_formulas_against_numbers_worked_out_by_hand(name, expected):
    assert se_value(name, X, Y, PRED, FIT) == pytest.approx(expected, rel=1e-9)


def test_every_candidate_shape_matches_the_hand_computation():
    """All 771 candidates on the held-out rows (every quantity, spread, divisor, multiplier and
    mapping, in each error transform) against the standard-library computation."""
    checked = 0
    for f in se_candidates():
        if f.points != "test" or f.spread in ("bootstrap_sd", "bootstrap_95"):
            continue
        yt, pt = Y[~FIT], PRED[~FIT]
        r = {"ln": [math.log(p) - math.log(y) for y, p in zip(yt, pt)],
             "log10": [math.log10(p) - math.log10(y) for y, p in zip(yt, pt)],
             "rel": [(p - y) / y for y, p in zip(yt, pt)],
             "diff": [p - y for y, p in zip(yt, pt)]}[f.error]
        # sqrt near 0 is ill-conditioned: "lower" with mu - w = 1e-17 may differ by a few 1e-9
        tol = 1e-8 if f.mapping in ("lower", "half", "full") else 1e-15
        assert se_value(f, X, Y, PRED, FIT) == pytest.approx(_hand_value(f, r), rel=1e-9, abs=tol), f.name
        checked += 1
    assert checked == 4 * (3 * 4 * 7 * 9 + 7)  # 4 errors x (756 moment shapes + 7 jackknife multipliers)


def test_bootstrap_spreads_follow_the_seeded_resamples():
    e = np.array(TEST_D) ** 2
    idx = np.random.default_rng(3).integers(0, 3, size=(200, 3))
    boot = np.sqrt(e[idx].mean(axis=1))
    lo, hi = np.percentile(boot, [2.5, 97.5])
    s = cell_stats(TEST_D, n_boot=200, seed=3)
    assert s["rmse_bootstrap_sd"] == pytest.approx(boot.std(ddof=1))
    assert s["rmse_bootstrap_95"] == pytest.approx((hi - lo) / 2)
    assert se_value("test|ln|rmse|bootstrap_sd|one|x2|direct", X, Y, PRED, FIT, n_boot=200, seed=3) == \
        pytest.approx(2 * boot.std(ddof=1))
    # equal errors: no spread under any resampling
    flat = cell_stats([0.1, 0.1, 0.1, 0.1], n_boot=100)
    assert flat["rmse_bootstrap_sd"] == pytest.approx(0, abs=1e-15)
    assert flat["rmse_jackknife"] == pytest.approx(0, abs=1e-15)


def test_point_sets():
    x = np.array([1, 2, 3, 4, 4, 5, 6, 6], dtype=float)
    fit = np.array([True, True, False, False, False, False, False, False])
    y = np.arange(1, 9, dtype=float)
    y[4], y[7] = y[3], y[6]  # rows 4 and 7 are exact copies of rows 3 and 6
    pred = y * 1.1
    assert _select("test", x, y, pred, fit, "BB")[0].tolist() == [3, 4, 4, 6, 7, 7]
    assert _select("test_distinct", x, y, pred, fit, "BB")[0].tolist() == [3, 4, 6, 7]
    assert _select("fit", x, y, pred, fit, "BB")[0].tolist() == [1, 2]
    assert _select("all", x, y, pred, fit, "BB")[0].tolist() == [1, 2, 3, 4, 6, 7]
    xs = np.arange(1, 13, dtype=float)
    last = _select("last5", xs, xs, xs, np.zeros(12, bool), "BB")[0]
    assert last.tolist() == [8, 9, 10, 11, 12]
    assert _select("last10", xs, xs, xs, xs < 5, "BB")[0].tolist() == list(range(5, 13))  # only 8 held out
    # beyond_cut: LM points past the common fitting cut, fitting points included; other domains: held out
    big = np.array([5e10, 6e10, 8e10, 9e10, 2e11])
    flags = np.array([True, True, True, False, False])
    assert _select("beyond_cut", big, big, big, flags, "LM")[0].tolist() == [8e10, 9e10, 2e11]
    assert _select("beyond_cut", big, big, big, flags, "BB")[0].tolist() == [9e10, 2e11]


def test_duplicates_change_only_n():
    """A held-out set stored twice: the population moments are the same, n doubles."""
    x2, y2, p2 = np.tile(X[~FIT], 2), np.tile(Y[~FIT], 2), np.tile(PRED[~FIT], 2)
    f = SEFormula(quantity="signed", spread="std0", divisor="sqrt_n", mapping="direct")
    once = se_value(f, X[~FIT], Y[~FIT], PRED[~FIT])
    assert se_value(f, x2, y2, p2) == pytest.approx(once / math.sqrt(2))
    assert se_value(SEFormula(points="test_distinct", quantity="signed", mapping="direct"), x2, y2, p2) == \
        pytest.approx(once)


@pytest.mark.parametrize("seed", range(5))
def test_released_formula_equals_evaluate_rmse_standard_error(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 40))
    y = rng.uniform(0.2, 1.0, n)
    pred = y * np.exp(rng.normal(0, 0.05, n))
    idx = np.concatenate([np.arange(n), rng.integers(0, n, 5)])  # with some duplicated rows
    x = np.arange(n, dtype=float)[idx]
    assert se_value(RELEASED, x, y[idx], pred[idx]) == pytest.approx(rmse_standard_error(y[idx], pred[idx]), rel=1e-12)


# ---------------------------------------------------------------------------------------------
# The family's bookkeeping
# ---------------------------------------------------------------------------------------------

def test_candidates_are_the_valid_product_of_the_components():
    fs = se_candidates()
    assert fs[0] == RELEASED
    names = [f.name for f in fs]
    assert len(names) == len(set(names)) == 21_588
    assert {f.points for f in fs} == set(COMPONENTS["points"])
    assert {f.multiplier for f in fs} == set(COMPONENTS["multiplier"])
    assert all(SEFormula.from_name(f.name) == f for f in fs[:500])


@pytest.mark.parametrize("kwargs, match", [
    (dict(points="middle"), "unknown points"),
    (dict(quantity="abs", mapping="upper"), "needs quantity 'sq'"),
    (dict(quantity="rmse", spread="std0", divisor="one", mapping="direct"), "resampling spread"),
    (dict(quantity="rmse", spread="jackknife", divisor="sqrt_n", mapping="direct"), "divisor 'one'"),
    (dict(quantity="rmse", spread="bootstrap_95", divisor="one", multiplier="2", mapping="direct"), "multiplier '1'"),
    (dict(quantity="sq", spread="jackknife"), "spread in"),
])
def test_invalid_formulas_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SEFormula(**kwargs)


def test_formula_names_round_trip_and_bad_names_are_refused():
    f = SEFormula("last10", "rel", "abs", "meandev", "n", "t95", "direct")
    assert SEFormula.from_name(f.name) == f
    with pytest.raises(ValueError, match="not a formula name"):
        SEFormula.from_name("test|ln|sq")


# ---------------------------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------------------------

def test_reproduced_means_rounds_to_the_printed_value():
    assert reproduced(0.00035, 0.0003, 0.0001)        # exactly half a unit away: rounds either way
    assert reproduced(0.000251, 0.0003, 0.0001)
    assert not reproduced(0.000351, 0.0003, 0.0001)
    assert not reproduced(0.000249, 0.0003, 0.0001)
    assert not reproduced(np.nan, 0.0003, 0.0001)
    assert reproduced(0.0055, 0.0055, 0.00001)
    assert not reproduced(0.005506, 0.0055, 0.00001)


def test_best_factor():
    k, n = _best_factor(np.array([[1.0, 2.0], [1.0, 1.0]]), np.array([[2.0, 4.0], [2.0, 4.0]]),
                        np.array([[0.1, 0.1], [0.1, 0.1]]))
    assert n.tolist() == [2, 1]
    assert 1.95 <= k[0] <= 2.025


def _toy_cells_and_predictions():
    rows, cells = [], []
    for j, (task, d) in enumerate([("a", [0.1, -0.2, 0.3]), ("b", [0.02, 0.05, -0.01, 0.04])]):
        n = len(d)
        x = np.arange(1.0, n + 3)
        y = np.full(n + 2, 0.5)
        fit = np.array([True, True] + [False] * n)
        pred = y * np.exp(np.r_[0.0, 0.0, d])
        rows.append(pd.DataFrame(dict(domain="BB", task=task, model="m", law="M1", x=x, y=y, pred=pred, fit=fit)))
        v = se_value(RELEASED, x, y, pred, fit)
        rmse = math.sqrt(np.mean(np.square(d)))
        cells.append(dict(domain="BB", task=task, model="m", law="M1", se=round(v, 4), unit=1e-4,
                          rmse=round(rmse, 3), rmse_unit=1e-3))
    return pd.DataFrame(cells), pd.concat(rows, ignore_index=True)


def test_search_counts_a_cell_exactly_when_the_formula_rounds_to_the_printed_value():
    cells, pred = _toy_cells_and_predictions()
    other = SEFormula(quantity="signed", mapping="direct")
    scores = search_se(pred, cells, formulas=[RELEASED, other])
    top = scores.set_index("formula")
    assert top.loc[RELEASED.name, "reproduced"] == 2
    assert top.loc[RELEASED.name, "reproduced_rmse_ok"] == 2
    assert scores.loc[0, "formula"] == RELEASED.name
    assert scores.attrs["n_all"] == 2 and scores.attrs["n_formulas"] == 2
    # print one value 0.6 of a unit away from the formula: that cell is no longer reproduced
    vals = cell_table(pred, [RELEASED], cells)[RELEASED.name].to_numpy()
    moved = cells.copy()
    moved.loc[0, "se"] = vals[0] + 0.6e-4
    assert search_se(pred, moved, formulas=[RELEASED]).loc[0, "reproduced"] == 1
    moved.loc[0, "se"] = vals[0] - 0.4e-4
    assert search_se(pred, moved, formulas=[RELEASED]).loc[0, "reproduced"] == 2
    # a factor: the paper printing exactly 3x the formula gives median ratio 3 and best factor ~3
    tripled = cells.copy()
    tripled["se"] = 3 * vals
    s = search_se(pred, tripled, formulas=[RELEASED]).iloc[0]
    assert s["reproduced"] == 0 and s["median_ratio"] == pytest.approx(3.0)
    assert s["at_best_factor"] == 2 and s["best_factor"] == pytest.approx(3.0, rel=1e-3)
    summary = search_summary(scores)
    assert summary.set_index("score").loc["reproduced", "best"] == 2


def test_notebook_bound_is_the_error_on_one_point():
    """All the squared error on one of n points gives the largest notebook "±" for a given RMSE:
    a printed pair made from that case sits exactly on the bound, a slightly larger "±" is beyond it."""
    n = 24
    e = np.zeros(n)
    e[0] = n * 0.02**2  # RMSE 0.02
    se = math.sqrt(e.mean() + e.std() / math.sqrt(n)) - math.sqrt(e.mean())
    cells = pd.DataFrame(dict(domain="BB", task="t", model="m", law="M1", rmse=[0.02, 0.02],
                              rmse_unit=1e-12, se=[se, se * 1.01], unit=1e-12))
    out = notebook_bound(reference=cells, n=[n, n])
    assert out["cv_needed"].iloc[0] == pytest.approx(math.sqrt(n - 1), rel=1e-6)
    assert out["attainable"].tolist() == [True, False]
    # the paper's BIG-Bench date 2-shot M1 pair, 2.9 ± 1.9 x 10^-2 on 24 points, is beyond it
    paper = pd.DataFrame(dict(domain="BB", task="t", model="m", law="M1", rmse=[0.029], rmse_unit=0.001,
                              se=[0.019], unit=0.001))
    assert not notebook_bound(reference=paper, n=[24])["attainable"].iloc[0]
    assert notebook_bound(reference=paper, n=[24], multiplier=3)["attainable"].iloc[0]


def test_predictions_from_params_flips_the_released_m3_exponent():
    class Curve:
        x = np.array([1.0, 2.0, 4.0])
        loss = np.array([0.9, 0.8, 0.7])
        is_fit = np.array([True, True, False])

    class Bench:
        def curve(self, domain, task, model):
            if (domain, task, model) != ("BB", "t", "m"):
                raise KeyError(task)
            return Curve()

    params = pd.DataFrame([dict(domain="BB", task="t", model="m", law="M3", beta=0.9, c=0.1, gamma=0.5,
                                eps_inf=0.0, alpha=0.0, eps0=1.0),
                           dict(domain="BB", task="u", model="m", law="M1", beta=1.0, c=-0.1, gamma=0.0,
                                eps_inf=0.0, alpha=0.0, eps0=1.0)])
    out = predictions_from_params(Bench(), params, m3_c="k")
    assert len(out) == 3 and out["fit"].tolist() == [True, True, False]
    assert out["pred"].to_numpy() == pytest.approx(0.9 * (1 / Curve.x + 0.5) ** 0.1)
    with pytest.raises(ValueError, match="m3_c"):
        predictions_from_params(Bench(), params, m3_c="minus")


# ---------------------------------------------------------------------------------------------
# On the benchmark: the released formula on the released fits is the released code's "se"
# ---------------------------------------------------------------------------------------------

needs_data = pytest.mark.skipif(not os.environ.get("SCALING_DATA_DIR"),
                                reason="set $SCALING_DATA_DIR to the folder holding the benchmark CSVs")


@pytest.fixture(scope="module")
def released_preds():
    from scaling.ledger.se_search import released_predictions
    return released_predictions()


@needs_data
def test_released_formula_on_released_fits_gives_the_released_se(released_preds):
    from scaling.ledger.reference import load_released_outputs
    ref = load_released_outputs().set_index(["domain", "task", "model", "law"])["se"]
    got = {k: se_value(RELEASED, g["x"], g["y"], g["pred"], g["fit"].to_numpy(bool), k[0])
           for k, g in released_preds.groupby(["domain", "task", "model", "law"])}
    assert len(got) == 60
    assert max(abs(v - ref[k]) for k, v in got.items()) < 1e-12


@needs_data
def test_headline_numbers_of_the_search(released_preds):
    """The numbers the module docstring states (released fits, CSV split)."""
    best = "test_distinct|rel|sq|std0|sqrt_n|x3|upper"
    scores = search_se(released_preds, formulas=[RELEASED, SEFormula.from_name(best),
                                                 SEFormula(points="test_distinct")]).set_index("formula")
    assert scores.loc[RELEASED.name, "reproduced"] == 1
    assert scores.loc[RELEASED.name, "median_ratio"] == pytest.approx(3.11, abs=0.005)
    assert scores.loc["test_distinct|ln|sq|std0|sqrt_n|x1|upper", "median_ratio"] == pytest.approx(2.98, abs=0.005)
    assert scores.loc[best, "reproduced"] == 37
    assert scores.loc[best, "reproduced_strict_rmse_ok"] == 4
    assert scores.attrs["n_strict"] == 23 and scores.attrs["n_rmse_ok"] == 31
    assert scores.attrs["n_strict_rmse_ok"] == 9
    bound = notebook_bound(released_preds, points="test")
    assert (~bound["attainable"]).sum() == 15
