"""Bootstrap refits of M4 at its alpha = 0 boundary (scaling.laws.refit).

The polish's M4 model caps its predictions at eps0 as alpha -> 0+, while the law at alpha below
ALPHA_ZERO is M2, uncapped (M4.predict). A warm refit that ended on alpha = 0 was once picked by the
capped model and predicted with it: its reported parameters predicted something else, and its objective
could be worse than the M2 refit of the same resample. The curves are tests/test_sound.py's: a power law
plus a floor whose first loss sits just below eps0.
"""

import numpy as np
import pytest

from scaling.laws import M2, M4
from scaling.laws.refit import batch_predictor, bootstrap_weights, warm_refits
from scaling.laws.sound import ALPHA_ZERO, fit_sound

KINK_CURVES = [(10, 300, 0.2, -0.9, 1.1, 0.98), (9, 100, 0.1, -0.8, 1.4, 0.98), (10, 100, 0.2, -0.9, 1.0, 0.98)]


def _kink_curve(n, x_max, eps, c, A, y0):
    x = np.geomspace(1.0, x_max, n)
    y = eps + A * x ** c
    y[0] = y0
    return x, y


def _objective(pred, y, w):
    return float(np.sum(w * (np.log(pred) - np.log(y)) ** 2))


@pytest.mark.parametrize("learn", [False, True])
@pytest.mark.parametrize("curve", KINK_CURVES)
def test_m4_refits_are_what_their_parameters_predict_and_no_worse_than_m2(curve, learn):
    x, y = _kink_curve(*curve)
    law = fit_sound(M4(eps0=1.0, learn_eps0=learn), x, y)
    assert law.params_["alpha"] < 1e-10  # the fit ends at (or next to) alpha = 0, where the refits go too
    m2 = fit_sound(M2(), x, y)
    W = bootstrap_weights(np.random.default_rng(0).integers(0, x.size, size=(80, x.size)), x.size)
    params, reasons = warm_refits(law, x, y, W)
    params2, _ = warm_refits(m2, x, y, W)
    ok = [b for b, p in enumerate(params) if p is not None]
    assert len(ok) > 60 and all(reasons[b] in (None, "too few distinct x") for b in range(len(params)))
    at = np.concatenate([x, np.geomspace(x[-1], 100 * x[-1], 5)])
    batch = batch_predictor(law, x, y, [params[b] for b in ok])(at)
    at_zero = 0
    for j, b in enumerate(ok):
        p = params[b]
        own = M4.from_params(**p).predict(at)
        np.testing.assert_allclose(batch[j], own, rtol=1e-9)  # the interval's predictions are the law's
        at_zero += p["alpha"] < ALPHA_ZERO
        if params2[b] is not None:
            mine = _objective(own[:x.size], y, W[b])
            theirs = _objective(M2.from_params(**params2[b]).predict(x), y, W[b])
            assert mine <= theirs * (1 + 1e-9) + 1e-15
    assert at_zero > 10  # the boundary is really exercised


def test_m4_refits_at_alpha_zero_are_m2_refits_when_m2_passes_eps0():
    """A refit on alpha = 0 predicts M2's losses, past eps0 where M2 does: never a capped copy of them."""
    x, y = _kink_curve(*KINK_CURVES[0])
    law = fit_sound(M4(eps0=1.0), x, y)
    W = bootstrap_weights(np.random.default_rng(1).integers(0, x.size, size=(60, x.size)), x.size)
    params, _ = warm_refits(law, x, y, W)
    zero = [p for p in params if p is not None and p["alpha"] < ALPHA_ZERO]
    assert zero
    pred = batch_predictor(law, x, y, zero)(x)
    f = np.array([p["eps_inf"] + p["beta"] * x ** p["c"] for p in zero])
    np.testing.assert_allclose(pred, f, rtol=1e-9)


def test_batch_predictor_keeps_a_learned_eps0_below_the_curves_largest_loss():
    """A resample without the largest loss may learn eps0 below it; the batch predictions keep that eps0."""
    x, y = _kink_curve(*KINK_CURVES[1])
    law = fit_sound(M4(eps0=1.0, learn_eps0=True), x, y)
    p = dict(law.params_, eps0=0.5 * (y[0] + y.max()), alpha=0.3)  # between the first loss and the largest
    assert y[0] < p["eps0"] < y.max()
    pred = batch_predictor(law, x, y, [p])(x[2:])
    np.testing.assert_allclose(pred[0], M4.from_params(**p).predict(x[2:]), rtol=1e-9)
