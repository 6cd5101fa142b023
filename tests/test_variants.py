"""Tests of the protocol-variant sweep (scaling.ledger.variants): definitions, option routing, caching,
and a small real sweep (NMT and LM, the instant laws M1 and M3)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scaling.ledger import variants
from scaling.evaluate import DOMAIN_ORDER, FIGURE1_TIE_RULE, WIN_RULES
from scaling.laws.released import LM_TABLE2_FIT_X_MAX
from scaling.ledger import FIGURE1_RULES, GOOD_STATUSES, STATUSES, load_reference
from scaling.ledger.variants import BASELINE, VARIANTS


@pytest.fixture(autouse=True)
def fresh_cache():
    variants.clear_cache()
    yield
    variants.clear_cache()


# ---------------------------------------------------------------------------------------------
# Definitions
# ---------------------------------------------------------------------------------------------

def test_variant_definitions():
    names = list(VARIANTS)
    assert names[0] == BASELINE == "released"
    base = VARIANTS[BASELINE]
    assert not base.options and not base.lm_cut and not base.drop_duplicates
    assert dict(base.tie_rule) == FIGURE1_TIE_RULE
    for name, v in VARIANTS.items():
        assert set(v.tie_rule) == set(DOMAIN_ORDER), name
        assert set(v.tie_rule.values()) <= set(FIGURE1_RULES), name
        assert v.description, name
        assert ":" not in name                        # a cause is "variant:<name>"
    # the choices the paper leaves open are all there
    assert VARIANTS["lr=1e-7"].options == {"lr": 1e-7}
    assert VARIANTS["eps0 fixed"].options == {"update_eps0": False}
    assert VARIANTS["LM common cut"].lm_cut and VARIANTS["duplicates dropped"].drop_duplicates
    assert all(r == "split" for r in VARIANTS["ties split"].tie_rule.values())
    assert all(r == "credit-all" for r in VARIANTS["ties credit-all"].tie_rule.values())
    assert set(FIGURE1_TIE_RULE.values()) <= set(WIN_RULES)


def test_options_reach_only_the_laws_that_use_them():
    assert VARIANTS["lr=1e-7"].options_for("M1") == {} and VARIANTS["lr=1e-7"].options_for("M3") == {}
    assert VARIANTS["lr=1e-7"].options_for("M2") == {"lr": 1e-7}
    assert VARIANTS["paper text"].options_for("M2") == {"lr": 1e-7}
    assert VARIANTS["paper text"].options_for("M4") == {"lr": 1e-7, "update_eps0": False}


def test_unknown_names_rejected():
    with pytest.raises(ValueError, match="unknown variant"):
        variants.variant_results("nope")
    with pytest.raises(ValueError, match="domain"):
        variants.variant_results(BASELINE, domains=["XX"])
    with pytest.raises(ValueError, match="law"):
        variants.variant_results(BASELINE, laws=["M9"])


# ---------------------------------------------------------------------------------------------
# Routing and caching, with a fake released runner (instant)
# ---------------------------------------------------------------------------------------------

def fake_runner(calls):
    """A stand-in for run_released_benchmark: RMSE depends on the options, so variants differ."""
    def run(curves, laws, progress, options):
        calls.append((curves[0].domain, tuple(laws), tuple(sorted(options.items())), len(curves),
                      float(max(np.max(c.x_fit) for c in curves)), sum(len(c.x_test) for c in curves)))
        rows = []
        for c in curves:
            for law in laws:
                bump = 1e-3 * len(options) + (1e-4 if options.get("lr") else 0.0)
                rows.append(dict(domain=c.domain, task=c.task, model=c.model, law=law,
                                 rmse=0.01 + 0.001 * int(law[1]) + bump, se=0.001, c=-0.3))
        return pd.DataFrame(rows)
    return run


def test_each_distinct_fit_runs_once(monkeypatch, bench):
    calls = []
    monkeypatch.setattr(variants, "_run_released", fake_runner(calls))
    for name in VARIANTS:
        variants.variant_results(name, domains=["NMT", "LM"])
    by = {call[:3] for call in calls}
    # the baseline: every law on each domain, in one call per domain
    assert ("NMT", ("M1", "M2", "M3", "M4"), ()) in by and ("LM", ("M1", "M2", "M3", "M4"), ()) in by
    # lr changes M2 and M4 only; eps0 fixed only M4; "paper text" reuses lr=1e-7's M2 fits
    assert ("NMT", ("M2", "M4"), (("lr", 1e-7),)) in by
    assert ("NMT", ("M4",), (("update_eps0", False),)) in by
    assert ("NMT", ("M4",), (("lr", 1e-7), ("update_eps0", False))) in by
    assert not any(d == "NMT" and "M2" in laws and ("update_eps0", False) in opts for d, laws, opts in by)
    assert not any(d == "NMT" and ("M1" in laws or "M3" in laws) and opts for d, laws, opts in by)
    # the LM cut and the duplicates refit LM only; tie rules refit nothing
    lm_calls = [c for c in calls if c[0] == "LM" and c[2] == ()]
    assert len(lm_calls) == 3                         # baseline, LM common cut, duplicates dropped
    assert sorted(c[4] <= LM_TABLE2_FIT_X_MAX for c in lm_calls) == [False, False, True]
    assert len({c[5] for c in lm_calls}) == 2        # the duplicates change the held-out rows only
    assert len(calls) == len(set(calls))
    n = len(calls)
    for name in VARIANTS:                             # everything is cached now
        variants.variant_results(name, domains=["NMT", "LM"])
    assert len(calls) == n


def test_sweep_with_fake_runner(monkeypatch, bench):
    monkeypatch.setattr(variants, "_run_released", fake_runner([]))
    tidy = variants.sweep(domains=["NMT"])
    ref = load_reference()
    nmt_items = set(ref.loc[(ref["domain"] == "NMT"), "item"])
    assert set(tidy["item"]) == nmt_items             # Table 2 NMT cells and the NMT bars of Figure 1
    assert tidy.groupby("variant").size().to_dict() == {v: len(nmt_items) for v in VARIANTS}
    assert set(tidy["status"]) <= set(STATUSES) - {"not-yet"}
    base = tidy[tidy["variant"] == BASELINE]
    assert base["changed"].all()
    lr = tidy[tidy["variant"] == "lr=1e-7"].set_index("item")
    assert lr.loc["NMT/6 Enc, 6 Dec/M2/rmse", "changed"] and not lr.loc["NMT/6 Enc, 6 Dec/M1/rmse", "changed"]
    assert not tidy[tidy["variant"] == "ties split"].set_index("item").loc["NMT/6 Enc, 6 Dec/M1/rmse", "changed"]
    d = tidy["distance"].to_numpy()
    assert np.allclose(d, (tidy["value"] - tidy["paper"]).abs() / tidy["precision"])
    summary = variants.sweep_summary(tidy)
    assert list(summary.columns) == list(VARIANTS) and "total" in summary.index


def test_sweep_restricted_to_sources(monkeypatch, bench):
    calls = []
    monkeypatch.setattr(variants, "_run_released", fake_runner(calls))
    tidy = variants.sweep(sources=["Table 3"], variants=[BASELINE])
    assert set(tidy["source"]) == {"Table 3"} and {c[0] for c in calls} == {"BB"}
    assert variants.sweep(sources=["Figure 2"]).empty  # not a benchmark source: nothing to fit


# ---------------------------------------------------------------------------------------------
# Helpers on a hand-made tidy frame
# ---------------------------------------------------------------------------------------------

def _tidy(rows):
    frame = pd.DataFrame(rows, columns=["item", "variant", "value", "status", "changed"])
    return frame.assign(paper=1.0, precision=0.1, error=np.nan,
                        distance=(frame["value"] - 1.0).abs() / 0.1)


def test_reproducing_and_closest_variants():
    tidy = _tidy([
        ("a", "released", 1.3, "differs", True), ("a", "lr=1e-7", 1.02, "reproduced", True),
        ("a", "eps0 fixed", 1.3, "differs", False), ("a", "paper text", 1.04, "reproduced", True),
        ("b", "released", 1.0, "reproduced", True), ("b", "ties split", 1.0, "reproduced", False),
        ("c", "released", 2.0, "differs", True), ("c", "eps0 fixed", 1.5, "differs", True),
    ])
    rep = variants.reproducing_variants(tidy)
    assert rep.to_dict() == {"a": ("lr=1e-7", "paper text"), "b": ("released",), "c": ()}
    assert variants.reproducing_variants(tidy, changed_only=False)["b"] == ("released", "ties split")
    close = variants.closest_variants(tidy)
    assert close.loc["a", "variant"] == "lr=1e-7" and close.loc["c", "variant"] == "eps0 fixed"
    assert close.loc["c", "distance"] == pytest.approx(5.0)
    assert close.loc["b", "variant"] == "released"    # a tie goes to the earlier variant


# ---------------------------------------------------------------------------------------------
# A small real sweep: NMT and LM with M1 and M3 (no gradient walk, instant)
# ---------------------------------------------------------------------------------------------

def test_small_real_sweep(bench):
    tidy = variants.sweep(domains=["NMT", "LM"], laws=["M1", "M3"])
    assert not tidy["item"].str.contains("win_fraction").any()    # Figure 1 needs all four laws
    assert set(tidy["source"]) == {"Table 2", "Figure 9"}
    st = tidy.set_index(["item", "variant"])["status"]
    value = tidy.set_index(["item", "variant"])["value"]
    # M1 is one least-squares fit: the NMT column of Table 2 is reproduced under every variant
    for model in ("6 Enc, 6 Dec", "28 Enc, 6 Dec", "6 Enc, 28 Dec", "Dec-only", "TEnc-LSTM"):
        assert st[f"NMT/{model}/M1/rmse", BASELINE] == "reproduced", model
    # the released M3 stops at the paper's value on '6 Enc, 6 Dec' (8.9e-2)
    assert st["NMT/6 Enc, 6 Dec/M3/rmse", BASELINE] == "reproduced"
    # no variant touches the NMT fits of M1 and M3
    nmt = tidy[tidy["domain"] == "NMT"]
    assert not nmt.loc[nmt["variant"] != BASELINE, "changed"].any()
    # the LM common cut reproduces the M1 column of Table 2; the CSV's own split does not
    lm_m1 = [f"LM/{m}/M1/rmse" for m in ("1.68e+07", "1.34e+08", "2.62e+08", "4.53e+08", "1.07e+09")]
    assert all(st[i, "LM common cut"] in GOOD_STATUSES for i in lm_m1)
    assert st["LM/1.68e+07/M1/rmse", BASELINE] == "differs"
    # dropping the duplicated LM rows leaves every RMSE and roughly doubles every standard error
    for item in lm_m1:
        assert value[item, "duplicates dropped"] == pytest.approx(value[item, BASELINE], rel=1e-9)
        se = item.replace("/rmse", "/se")
        assert 1.3 < value[se, "duplicates dropped"] / value[se, BASELINE] <= 2.0 + 1e-9
    rep = variants.reproducing_variants(tidy)
    assert rep["LM/1.68e+07/M1/rmse"][0] == "LM common cut"
    assert "released" in rep["NMT/6 Enc, 6 Dec/M1/rmse"]
