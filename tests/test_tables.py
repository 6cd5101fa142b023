"""Paper-style number formatting and the bold-winner rules."""

import numpy as np
import pandas as pd
import pytest

from scaling.report.tables import results_table, sci, style_table, winner_mask


@pytest.mark.parametrize("value, error, text", [
    (0.0131, None, "1.3 × 10⁻²"), (0.26, None, "2.6 × 10⁻¹"), (3.1e-4, 0.7e-4, "3.1 ± 0.7 × 10⁻⁴"),
    (0.00996, None, "1.0 × 10⁻²"), (4.2, None, "4.2"), (np.nan, None, "–"), (1.5e-2, 0.1e-2, "1.5 ± 0.1 × 10⁻²"),
])
def test_sci(value, error, text):
    assert sci(value, error) == text


def test_winner_rules_reproduce_a_paper_row():
    # Table 2, LM 2.62e+08: M2 1.9 ± 0.5, M4 1.8 ± 0.5 (x 1e-3) are both bold; M1 and M3 are not
    rmse = pd.DataFrame([[2.3e-2, 1.9e-3, 5.2e-3, 1.8e-3]], columns=["M1", "M2", "M3", "M4"])
    se = pd.DataFrame([[0.5e-2, 0.5e-3, 0.9e-3, 0.5e-3]], columns=rmse.columns)
    assert winner_mask(rmse, se, rule="within-se").iloc[0].tolist() == [False, True, False, True]
    assert winner_mask(rmse).iloc[0].tolist() == [False, False, False, True]
    assert winner_mask(rmse, decimals=2).iloc[0].tolist() == [False, True, True, True]
    with pytest.raises(ValueError, match="needs the standard errors"):
        winner_mask(rmse, rule="within-se")


def test_results_table_and_style():
    res = pd.DataFrame({"domain": ["NMT"] * 2, "task": ["t"] * 2, "model": ["m"] * 2, "law": ["M1", "M4"],
                        "rmse": [0.2, 0.01]})
    table = results_table(res, "NMT")
    assert table.columns.tolist() == ["M1", "M4"] and table.loc[("t", "m"), "M4"] == 0.01
    html = style_table(table, bold=winner_mask(table)).to_html()
    assert "1.0 × 10⁻²" in html and "font-weight: bold" in html
    with pytest.raises(ValueError, match="no rows for domain"):
        results_table(res, "LM")
