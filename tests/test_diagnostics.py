"""scaling.diagnostics: every finding triggered by a curve built to trigger it, and the bound hits it now owns."""

import numpy as np
import pytest

from scaling.laws.bnsl import BNSL
from scaling.laws.chinchilla import Chinchilla
from scaling.diagnostics import CODES, bound_hits, diagnose
from scaling.laws import M1, M2, M3, M4
from scaling.laws.sound import fit_sound
from scaling.userfit import fit_user_curve

X = np.geomspace(1e3, 1e6, 15)
POWER = 3.0 * X**-0.2  # a pure power law: M1 exactly


def found(findings):
    return [(f["code"], f.get("parameter")) for f in findings]


@pytest.mark.parametrize("law", [M2(), M4(eps0=1.0), M3()], ids=["M2", "M4", "M3"])
def test_a_law_on_a_pure_power_law_reduces_to_m1(law):
    law.fit(X, POWER)  # the paper's Eq. 4/5: its minimum sits on the boundary where the law is M1
    codes = [c for c, _ in found(diagnose(law, X, POWER))]
    assert codes == ["reduces-to-M1"]


def test_m4_without_its_bend_is_m2():
    y = 0.3 + 3.0 * X**-0.4  # an M2 curve: the sound M4 fit sets alpha = 0, keeps eps_inf
    law = fit_sound(M4(eps0=2.0), X, y)
    assert found(diagnose(law, X, y, estimator="sound")) == [("reduces-to-M2", "alpha")]


def test_bnsl_without_a_break_and_chinchilla_without_a_plateau_are_m1():
    bnsl = BNSL().fit(X, POWER)
    codes = [c for c, _ in found(diagnose(bnsl, X, POWER))]
    assert codes == ["reduces-to-M1"]  # and no "break-at-edge": a break without effect has no position
    chin = Chinchilla.from_params(beta=3.0, c=-0.2, eps_inf=1e-12)
    assert found(diagnose(chin, X, POWER))[0] == ("reduces-to-M1", "eps_inf")


def test_plateau_above_a_held_out_loss():
    x_fit = np.geomspace(1e3, 1e5, 10)
    y_fit = 0.5 + 2.0 * x_fit**-0.5  # levels off at 0.5 ...
    x_test = np.geomspace(2e5, 1e6, 4)
    y_test = np.full(4, 0.3)  # ... but the held-out points go lower
    law = fit_sound(M2(), x_fit, y_fit)
    assert found(diagnose(law, x_fit, y_fit, x_test, y_test, estimator="sound")) == [("plateau-above-data", "eps_inf")]
    assert diagnose(law, x_fit, y_fit, estimator="sound") == []  # without the held-out points nothing is wrong


def test_plateau_at_the_smallest_fitted_loss():
    law = M2.from_params(beta=2.0, c=-0.5, eps_inf=float(POWER.min()))
    assert ("plateau-above-data", "eps_inf") in found(diagnose(law, X, POWER))


def test_extreme_exponent_alpha_and_coefficient():
    rng = np.random.default_rng(0)
    steep = 1e5 * X**-12.0 * np.exp(rng.normal(0, 0.01, X.size))  # 12 decades of loss per decade of x
    assert found(diagnose(M1().fit(X, steep), X, steep)) == [("extreme-parameter", "c")]
    m4 = M4.from_params(beta=1e150, c=-0.3, eps_inf=0.01, eps0=1.0, alpha=40.0)
    y = m4.predict(X)
    hits = found(diagnose(m4, X, y))
    assert ("extreme-parameter", "alpha") in hits and ("extreme-parameter", "beta") in hits
    message = next(f["message"] for f in diagnose(m4, X, y) if f.get("parameter") == "alpha")
    assert "alpha = 40" in message


def test_non_finite_parameters_are_reported_alone():
    law = M1.from_params(beta=1.0, c=-0.5)
    law.params_["beta"] = float("inf")
    assert found(diagnose(law, X, POWER)) == [("extreme-parameter", "beta")]


def test_bnsl_break_at_the_edge_of_the_data():
    x = np.geomspace(1e3, 1e6, 12)
    # a power law that turns down sharply after the second largest x: one point shows the break
    y = np.where(x < x[-2] * 0.999, 3 * x**-0.2, 3 * x[-2]**-0.2 * (x / x[-2])**-1.5)
    law = BNSL().fit(x, y)
    assert ("break-at-edge", "d1") in found(diagnose(law, x, y))


def test_on_constraint_flat_curve():
    y = 0.5 * np.linspace(1.0, 1.05, X.size)  # rising: the exponent stays at its bound c = 0
    assert found(diagnose(M1().fit(X, y), X, y)) == [("on-constraint", "c")]


def test_wide_interval_from_intervals_and_from_a_bootstrap():
    law = M1().fit(X, POWER)
    got = found(diagnose(law, X, POWER, intervals={"c": (-0.21, -0.19), "d1": (1e3, 1e7), "eps_inf": (0.0, 2.0)}))
    assert got == [("wide-interval", "d1"), ("wide-interval", "eps_inf")]
    rng = np.random.default_rng(0)
    x = np.geomspace(1e3, 1e5, 8)
    y = (0.2 + 3 * x**-0.3) * np.exp(rng.normal(0, 0.03, 8))  # 8 noisy points cannot pin M4's alpha
    fit = fit_user_curve(x, y, laws="M4", n_boot=50).fits["M4"]
    assert ("wide-interval", "alpha") in found(fit.diagnostics)


def test_not_converged():
    law = M1().fit(X, POWER)
    law.converged_ = False
    assert [c for c, _ in found(diagnose(law, X, POWER))] == ["not-converged"]


def test_codes_come_from_the_documented_set_on_random_curves():
    rng = np.random.default_rng(7)
    for _ in range(4):
        x = np.geomspace(10 ** rng.uniform(0, 6), 10 ** rng.uniform(7, 10), 12)
        y = (rng.uniform(0, 1) + 10 ** rng.uniform(0, 2) * x ** -rng.uniform(0.05, 0.8)) * np.exp(
            rng.normal(0, 0.05, x.size))
        res = fit_user_curve(x, y, holdout=0.25, n_boot=10, seed=1)
        for fit in res.fits.values():
            for f in fit.diagnostics:
                assert f["code"] in CODES and f["message"]


def test_bound_hits_live_in_diagnostics():
    law = M2().fit(X, POWER)
    assert bound_hits(law, X, POWER) == ["eps_inf=0"]
    m4 = M4(eps0=1.0, learn_eps0=True).fit(X, POWER)
    assert "eps_inf=0" in bound_hits(m4, X, POWER) and "alpha=0" in bound_hits(m4, X, POWER)
    # the sound estimator learns eps0 in a relative interval: its bounds are judged there
    sound = fit_sound(M4(eps0=1.0, learn_eps0=True), X, 0.3 + 3.0 * X**-0.4)
    hits = bound_hits(sound, X, 0.3 + 3.0 * X**-0.4, estimator="sound")
    assert all(h in ("alpha=0", "eps0=max(loss)+margin", "eps0=eps0_max", "alpha=50") for h in hits)


def test_a_limit_at_zero_without_a_reduction_is_on_its_constraint():
    m4 = M4.from_params(beta=5.0, c=-0.3, eps_inf=0.0, eps0=1.0, alpha=0.5)  # bends, but no plateau
    y = m4.predict(X)
    assert found(diagnose(m4, X, y)) == [("on-constraint", "eps_inf")]


# --- the benchmark's fits: rebuilt from run_benchmark rows -------------------------------------------------
def _bench(tmp_path):
    from scaling.benchmark import load_benchmark_csv

    x = np.geomspace(1e5, 1e9, 12)
    rows = [("IC", "t", "m", 0.2 + 3.0 * x**-0.3), ("NMT", "t", "m", 2.0 + 40.0 * x**-0.3)]
    text = "Domain,Task,Model,Seen Examples,Loss,Training\n" + "".join(
        f"{d},{t},{m},{xi:.6g},{yi:.6g},{int(i < 8)}\n" for d, t, m, y in rows for i, (xi, yi) in enumerate(zip(x, y)))
    (tmp_path / "b.csv").write_text(text)
    return load_benchmark_csv(tmp_path / "b.csv")


def test_diagnose_benchmark_rebuilds_each_row_in_its_domain_configuration(tmp_path):
    import pandas as pd

    from scaling.diagnostics import benchmark_counts, benchmark_lines, diagnose_benchmark

    bench = _bench(tmp_path)
    nmt_max = bench.curve("NMT", "t", "m").loss_fit.max()
    base = {"task": "t", "model": "m", "rmse": 0.01, "converged": True}
    results = pd.DataFrame([
        {**base, "domain": "IC", "law": "M1", "beta": 0.2, "c": 0.05},  # rising loss: the released code allows it
        {**base, "domain": "IC", "law": "M2", "rmse": float("nan"), "beta": float("nan"), "c": float("nan"),
         "eps_inf": float("nan")},  # a failed fit
        {**base, "domain": "IC", "law": "M2", "beta": 3.0, "c": -0.3, "eps_inf": 0.0},
        # NMT's M4 learns eps0 (from_params alone would fix it, and not judge its magnitude)
        {**base, "domain": "NMT", "law": "M4", "beta": 40.0, "c": -0.3, "eps_inf": 1.0, "eps0": 1e4 * nmt_max,
         "alpha": 0.5, "converged": False},
    ])
    findings = diagnose_benchmark(results, bench, "global")
    assert [f["code"] for f in findings[0]] == ["outside-domain"] and "c <= 0" in findings[0][0]["message"]
    assert findings[1] == []
    assert [f["code"] for f in findings[2]] == ["reduces-to-M1"]
    assert ("extreme-parameter", "eps0") in found(findings[3]) and ("not-converged", None) in found(findings[3])
    counts = benchmark_counts(results, findings)
    assert counts.loc[("M2", "reduces-to-M1")].to_dict() == {"IC": 1, "NMT": 0}
    assert list(counts.columns) == ["IC", "NMT"] and ("M1", "outside-domain") in counts.index
    lines = benchmark_lines(results, findings)
    assert "  M2 reduces-to-M1" in lines[1] and lines[1].endswith("IC 1/2  NMT 0/0")
    with pytest.raises(ValueError, match="no curve"):
        diagnose_benchmark(results.assign(task="other"), bench, "global")
    with pytest.raises(ValueError, match="unknown estimator"):
        diagnose_benchmark(results, bench, "eq4")
    assert benchmark_lines(results.iloc[[1]], [[]]) == ["  no fit flagged"]


# --- M4 reduces to M2 by what it predicts, not by the size of alpha ------------------------------------------
# A curve whose first loss sits just below eps0 while the power law through the rest passes eps0 there.
KINK_X = np.geomspace(1.0, 300.0, 10)
KINK_PARAMS = {"beta": 1.1, "c": -0.9, "eps_inf": 0.2, "eps0": 1.0}


def test_m4_with_a_tiny_alpha_that_caps_at_eps0_is_not_m2():
    """alpha = 5e-12 (just above ALPHA_ZERO): the equation barely changes, but where beta x^c passes
    eps0 - eps_inf the predictions stop at eps0 and M2's do not. That is not M2."""
    law = M4.from_params(**KINK_PARAMS, alpha=5e-12)
    pred = law.predict(KINK_X)
    m2_form = KINK_PARAMS["eps_inf"] + KINK_PARAMS["beta"] * KINK_X ** KINK_PARAMS["c"]
    assert m2_form[0] > 1.0 and pred[0] == pytest.approx(1.0, rel=1e-9)  # at eps0 where M2 passes it
    y = np.minimum(m2_form, 0.98)
    codes = [c for c, _ in found(diagnose(law, KINK_X, y, estimator="sound"))]
    assert "reduces-to-M2" not in codes and "reduces-to-M1" not in codes


def test_m4_at_alpha_zero_is_m2_even_past_eps0():
    """alpha below ALPHA_ZERO is M2 by definition (its predictions are M2's, also past eps0)."""
    law = M4.from_params(**KINK_PARAMS, alpha=0.0)
    y = np.minimum(KINK_PARAMS["eps_inf"] + KINK_PARAMS["beta"] * KINK_X ** KINK_PARAMS["c"], 0.98)
    assert found(diagnose(law, KINK_X, y, estimator="sound"))[0] == ("reduces-to-M2", "alpha")


def test_m4_with_a_tiny_alpha_away_from_eps0_is_still_m2():
    """alpha = 5e-12 where every prediction stays well below eps0: the predictions are M2's, so it reduces."""
    x = np.geomspace(10.0, 300.0, 10)
    law = M4.from_params(**KINK_PARAMS, alpha=5e-12)
    y = law.predict(x)
    assert y.max() < 0.5
    np.testing.assert_allclose(y, KINK_PARAMS["eps_inf"] + KINK_PARAMS["beta"] * x ** KINK_PARAMS["c"], rtol=1e-9)
    assert found(diagnose(law, x, y, estimator="sound"))[0] == ("reduces-to-M2", "alpha")


def test_m4_with_a_small_alpha_that_only_rescales_beta_is_m2():
    """alpha = 1e-8: its predictions equal an M2's with beta rescaled by (eps0 - loss)^alpha, a constant on
    the data to within 1e-6 in log loss: M4 is M2 there (scale-free, as before)."""
    law = M4.from_params(beta=3.0, c=-0.4, eps_inf=0.3, eps0=2.0, alpha=1e-8)
    y = law.predict(X)
    assert found(diagnose(law, X, y, estimator="sound"))[0] == ("reduces-to-M2", "alpha")
