"""scaling.ledger.reference: the released code's outputs, shipped as package data."""

import hashlib
from importlib import resources

import numpy as np
import pytest

from scaling.ledger import reference
from scaling.ledger.reference import RELEASED_TOTAL_SECONDS, load_released_outputs, released_seconds

COLUMNS = ["domain", "task", "model", "law", "rmse", "se", "fit_seconds", "beta", "c", "eps_inf", "alpha",
           "gamma", "eps0"]


def test_the_shipped_file_is_the_documented_copy():
    data = resources.files("scaling.ledger.reference").joinpath(reference.RELEASED_OUTPUTS_FILE).read_bytes()
    assert hashlib.sha256(data).hexdigest() == reference.RELEASED_OUTPUTS_SHA256
    readme = resources.files("scaling.ledger.reference").joinpath("README.md").read_text()
    assert reference.RELEASED_OUTPUTS_SHA256 in readme
    assert "1d4d2f1aa6f2883a790d2ae46a6ee8ab150d8f31" in readme


def test_released_outputs_have_92_curves_times_four_laws():
    ref = load_released_outputs()
    assert list(ref.columns) == COLUMNS and len(ref) == 368
    assert ref.groupby("law").size().to_dict() == {"M1": 92, "M2": 92, "M3": 92, "M4": 92}
    assert len(ref.drop_duplicates(["domain", "task", "model"])) == 92
    assert ref.groupby("domain")["model"].size().to_dict() == {"IC": 288, "NMT": 20, "LM": 20, "BB": 40}
    assert not ref[COLUMNS[4:]].isna().any().any()
    # keys stay text, spelled as in the benchmark CSVs (an LM model such as 1.68e+07 is not a number)
    assert "1.68e+07" in set(ref["model"]) and "('date', '1-shot')" in set(ref["task"])


def test_released_total_seconds_is_the_sum_of_the_fit_times():
    assert RELEASED_TOTAL_SECONDS == pytest.approx(1647, abs=0.5)
    assert RELEASED_TOTAL_SECONDS == pytest.approx(load_released_outputs()["fit_seconds"].sum())
    parts = [released_seconds([law]) for law in ("M1", "M2", "M3", "M4")]
    assert np.isclose(sum(parts), RELEASED_TOTAL_SECONDS)
    assert released_seconds(["M1", "M3"]) < 0.01 * RELEASED_TOTAL_SECONDS
    with pytest.raises(ValueError, match="BNSL"):
        released_seconds(["M1", "BNSL"])


def test_each_call_returns_a_fresh_frame():
    first = load_released_outputs()
    first.loc[0, "rmse"] = -1.0
    assert load_released_outputs().loc[0, "rmse"] > 0
