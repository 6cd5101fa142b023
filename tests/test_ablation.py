"""The alpha ablation (reconstructed appendix A.1)."""

import numpy as np
import pytest

from scaling.studies.ablation import ablation_summary, alpha_ablation


@pytest.fixture(scope="module")
def small(bench):
    keys = [("IC", "inet_10", "BiT/101/3"), ("IC", "c_5", "ViT/S/16"), ("NMT", "log_perplexity", "TEnc-LSTM"),
            ("BB", "('date', '1-shot')", "262M")]
    return alpha_ablation([bench.curve(*k) for k in keys])


def test_ablation_fits_both_variants(small):
    table = small.table
    assert len(table) == 4
    assert np.isfinite(table[["rmse_learned", "rmse_fixed"]]).all().all()
    assert (table["alpha_learned"] >= 0).all()
    fixed_m4 = small.results_fixed[small.results_fixed.law == "M4"]
    assert (fixed_m4["alpha"] == 1.0).all()
    assert set(small.results_fixed.law) == {"M1", "M2", "M3", "M4"}


def test_summary_counts_add_up(small):
    summary = ablation_summary(small)
    assert summary.loc["IC", "curves"] == 2
    shares = summary[["learned better", "tie", "alpha = 1 better"]].sum(axis=1)
    assert np.allclose(shares, 1.0)
    assert ((summary.filter(like="win fraction") >= 0) & (summary.filter(like="win fraction") <= 1)).all().all()
