"""Tests of the reproduction ledger: reference CSV, status rules, producers and CLI."""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scaling.studies  # noqa: F401  (registers its producers now, before tests empty the registry)
from scaling import cli
from scaling.ledger import core as ledger
from scaling.ledger import (
    compare, load_reference, parse_printed, register_producer,
)

EXPECTED_COUNTS = {
    "Table 2": 60,   # NMT 5 x 4 RMSE; LM 5 x 4 RMSE + 5 x 4 SE
    "Table 3": 80,   # BIG-Bench 10 x 4 RMSE + 10 x 4 SE
    "Figure 1": 16,  # 4 domains x 4 laws
    "Figure 2": 12,  # 3 cutoffs x 4 laws
    "Figure 3": 6,   # argmin c and min RMSE for 2 criteria, plus the two values stated in the text
    "Figure 6": 36,  # 2 laws x 6 models x 3 shots
    "Figure 9": 20,  # 4 laws x 5 LM sizes
}
LAWS = ["M1", "M2", "M3", "M4"]
NMT_MODELS = ["6 Enc, 6 Dec", "28 Enc, 6 Dec", "6 Enc, 28 Dec", "Dec-only", "TEnc-LSTM"]
LM_MODELS = ["1.68e+07", "1.34e+08", "2.62e+08", "4.53e+08", "1.07e+09"]
BB_TASKS = [f"('{t}', '{s}-shot')" for t in ("ling", "qa", "unit", "mult", "date") for s in (1, 2)]
IC_MODELS = ["BiT/50/1", "BiT/101/3", "ViT/S/16", "ViT/B/16", "MiX/B/16", "MiX/L/16"]
DIGEST = Path("/work/shared/paper-digest.md")


@pytest.fixture(scope="module")
def ref() -> pd.DataFrame:
    return load_reference()


def make_ref(rows):
    """A small hand-made reference: rows of (item, paper, precision, paper_error)."""
    return pd.DataFrame(rows, columns=["item", "paper", "precision", "paper_error"]).assign(source="T")


def status_of(paper, precision, ours, paper_error=np.nan, ours_error=None):
    r = make_ref([("x", paper, precision, paper_error)])
    o = pd.DataFrame({"item": ["x"], "ours": [ours]})
    if ours_error is not None:
        o["ours_error"] = [ours_error]
    return compare(o, r)["status"].iloc[0]


# ---------------------------------------------------------------------------------------------
# The reference CSV
# ---------------------------------------------------------------------------------------------

def test_reference_row_counts(ref):
    assert ref["source"].value_counts().to_dict() == EXPECTED_COUNTS
    assert len(ref) == sum(EXPECTED_COUNTS.values()) == 230


def test_reference_items_unique_and_columns(ref):
    assert not ref["item"].duplicated().any()
    for col in ("source", "item", "domain", "task", "model", "law", "quantity", "paper",
                "paper_text", "paper_error", "bold", "precision", "note"):
        assert col in ref.columns
    assert ref["paper"].notna().all()
    assert (ref["precision"] > 0).all()
    assert set(ref["law"]) == set(LAWS)


def test_reference_text_columns_stay_strings(ref):
    lm = ref[(ref["source"] == "Table 2") & (ref["domain"] == "LM")]
    assert set(lm["model"]) == set(LM_MODELS)          # not parsed as floats
    assert ref.loc[ref["item"] == "LM/1.68e+07/M2/se", "paper"].item() == pytest.approx(1.0e-4)


def test_reference_keys_use_benchmark_spellings(ref):
    t2 = ref[ref["source"] == "Table 2"]
    assert set(t2.loc[t2["domain"] == "NMT", "model"]) == set(NMT_MODELS)
    t3 = ref[ref["source"] == "Table 3"]
    assert set(t3["task"]) == set(BB_TASKS) and set(t3["model"]) == {"262M"}
    f6 = ref[ref["source"] == "Figure 6"]
    assert set(f6["model"]) == set(IC_MODELS) and set(f6["task"]) == {"inet_5", "inet_10", "inet_25"}
    for row in ref.itertuples():
        if row.source in ("Table 2", "Table 3"):
            key = row.task if row.domain == "BB" else row.model
            assert row.item == f"{row.domain}/{key}/{row.law}/{row.quantity}"
        elif row.source == "Figure 6":
            assert row.item == f"Figure6/{row.law}/{row.model}/{row.task}/c"
        elif row.source == "Figure 9":
            assert row.item == f"Figure9/{row.law}/{row.model}/c"
        elif row.source == "Figure 1":
            assert row.item == f"{row.domain}/{row.law}/win_fraction"


def test_reference_keys_match_benchmark_csv_when_available(ref):
    data_dir = Path("/work/shared/data")
    import os
    data_dir = Path(os.environ.get("SCALING_DATA_DIR", data_dir))
    lang = data_dir / "benchmark.lang.csv"
    vision = data_dir / "benchmark.vision.csv"
    if not (lang.is_file() and vision.is_file()):
        pytest.skip("benchmark CSVs not available")
    groups = set()
    for f in (lang, vision):
        df = pd.read_csv(f, dtype=str)
        groups |= set(map(tuple, df[["Domain", "Task", "Model"]].drop_duplicates().to_numpy()))
    for row in ref[ref["source"].isin(["Table 2", "Table 3", "Figure 6", "Figure 9"])].itertuples():
        assert (row.domain, row.task, row.model) in groups, row.item


@pytest.mark.parametrize("source", ["Table 2", "Table 3"])
def test_every_table_value_parses_and_matches(ref, source):
    rows = ref[ref["source"] == source]
    assert rows["bold"].notna().all()
    for row in rows.itertuples():
        value, error, unit = parse_printed(row.paper_text)
        assert unit == pytest.approx(row.precision, rel=1e-12), row.item
        if row.quantity == "rmse":
            assert row.paper == pytest.approx(value, rel=1e-12), row.item
            if row.domain == "NMT":
                assert math.isnan(error) and math.isnan(row.paper_error)
            else:
                assert row.paper_error == pytest.approx(error, rel=1e-12), row.item
        else:
            assert row.quantity == "se"
            assert row.paper == pytest.approx(error, rel=1e-12), row.item
            assert math.isnan(row.paper_error)


def test_every_reference_text_parses(ref):
    for row in ref.itertuples():
        value, _, _ = parse_printed(row.paper_text)
        if row.quantity != "se":
            assert value == pytest.approx(row.paper, rel=1e-12), row.item


def test_bold_cells_reproduce_figure1_bars(ref):
    """The NMT/LM/BB bars equal the share of bold RMSE cells per law (ties credited to all)."""
    cells = ref[ref["source"].isin(["Table 2", "Table 3"]) & (ref["quantity"] == "rmse")]
    bars = ref[ref["source"] == "Figure 1"].set_index("item")["paper"]
    for (domain, law), grp in cells.groupby(["domain", "law"]):
        assert grp["bold"].mean() == pytest.approx(bars[f"{domain}/{law}/win_fraction"]), (domain, law)
    ic = ref[(ref["source"] == "Figure 1") & (ref["domain"] == "IC")]
    assert ic["paper"].sum() == pytest.approx(1.0)


def test_figure_values(ref):
    p = ref.set_index("item")["paper"]
    assert p["Figure2/cutoff=0/M4/c"] == -0.57 and p["Figure2/cutoff=1000/M2/c"] == -0.48
    assert p["Figure3/interpolation/argmin_c_text"] == -0.24
    assert p["Figure3/extrapolation/argmin_c_text"] == -0.40
    assert p["Figure3/extrapolation/argmin_c"] == -0.41
    assert p["Figure6/M4/BiT/101/3/inet_25/c"] == -0.818
    assert p["Figure9/M2/1.07e+09/c"] == -0.338
    assert (ref.loc[ref["source"].isin(["Figure 6", "Figure 9"]), "precision"] == 0.005).all()
    assert ref.loc[ref["source"].str.startswith("Figure"), "bold"].isna().all()


@pytest.mark.skipif(not DIGEST.is_file(), reason="team digest not available")
def test_reference_matches_digest_tables(ref):
    """Independent check of the transcription against the digest's markdown tables."""
    lines = DIGEST.read_text(encoding="utf-8").splitlines()

    def row_cells(first: str, second: str | None = None):
        for line in lines:
            parts = [p.strip() for p in line.strip().strip("|").split("|")]
            if parts and parts[0] == first and (second is None or (len(parts) > 1 and parts[1] == second)):
                return parts[2:] if second is not None else parts[1:]
        raise AssertionError(f"row {first!r} {second!r} not found in digest")

    for row in ref[ref["source"].isin(["Table 2", "Table 3"])].itertuples():
        label = row.model if row.domain == "LM" else re.search(r'row printed as "([^"]+)"', row.note)[1]
        cell = row_cells(label)[LAWS.index(row.law)]
        expected = f"**{row.paper_text}**" if row.bold else row.paper_text
        assert cell == expected, row.item
    shots = {"inet_5": 0, "inet_10": 1, "inet_25": 2}
    for row in ref[ref["source"] == "Figure 6"].itertuples():
        assert row_cells(row.law, row.model)[shots[row.task]] == row.paper_text, row.item
    fig9 = {}
    for line in lines:
        parts = [p.strip() for p in line.strip().strip("|").split("|")]
        if len(parts) == 6 and parts[0] in LAWS and all(p.startswith("−") for p in parts[1:]):
            fig9[parts[0]] = parts[1:]
    assert sorted(fig9) == LAWS
    for row in ref[ref["source"] == "Figure 9"].itertuples():
        assert fig9[row.law][LM_MODELS.index(row.model)] == row.paper_text, row.item


def test_load_reference_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="paper reference table not found"):
        load_reference(tmp_path / "nope.csv")


def test_load_reference_rejects_duplicates(tmp_path, ref):
    bad = tmp_path / "ref.csv"
    raw = pd.read_csv(ledger.REFERENCE_PATH, dtype=str, keep_default_na=False)
    pd.concat([raw, raw.iloc[:1]]).to_csv(bad, index=False)
    with pytest.raises(ValueError, match="duplicate item"):
        load_reference(bad)


# ---------------------------------------------------------------------------------------------
# parse_printed
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, value, error, unit", [
    ("3.1 ± 0.7 × 10⁻⁴", 3.1e-4, 0.7e-4, 1e-5),
    ("**1.0 × 10⁻²**", 1.0e-2, math.nan, 1e-3),
    ("9.2 ± 1.4 × 10⁻³", 9.2e-3, 1.4e-3, 1e-4),
    ("−0.135", -0.135, math.nan, 1e-3),
    ("≈−0.25", -0.25, math.nan, 1e-2),
    ("≈3.1×10⁻³", 3.1e-3, math.nan, 1e-4),
    ("0.04", 0.04, math.nan, 0.01),
    ("0.0", 0.0, math.nan, 0.1),
    ("3.1 +/- 0.7 x 10^-4", 3.1e-4, 0.7e-4, 1e-5),
    ("3.1e-4", 3.1e-4, math.nan, 1e-5),
    ("12", 12.0, math.nan, 1.0),
])
def test_parse_printed(text, value, error, unit):
    v, e, u = parse_printed(text)
    assert v == pytest.approx(value, rel=1e-12, abs=0)
    assert (math.isnan(e) and math.isnan(error)) or e == pytest.approx(error, rel=1e-12)
    assert u == pytest.approx(unit, rel=1e-12)


@pytest.mark.parametrize("bad", ["", "n/a", "3.1 ± × 10⁻⁴", "1,5"])
def test_parse_printed_rejects(bad):
    with pytest.raises(ValueError, match="cannot parse"):
        parse_printed(bad)


def test_parse_printed_type_error():
    with pytest.raises(TypeError):
        parse_printed(0.5)


# ---------------------------------------------------------------------------------------------
# Status rules
# ---------------------------------------------------------------------------------------------

def test_four_statuses_on_a_small_frame():
    r = make_ref([("a", 3.1e-4, 1e-5, 0.7e-4), ("b", 3.1e-4, 1e-5, 0.7e-4),
                  ("c", 3.1e-4, 1e-5, 0.7e-4), ("d", 3.1e-4, 1e-5, 0.7e-4),
                  ("e", 3.1e-4, 1e-5, 0.7e-4)])
    o = pd.DataFrame({"item": ["a", "b", "c", "d"], "ours": [3.12e-4, 3.5e-4, 4.0e-4, np.nan]})
    out = compare(o, r).set_index("item")
    assert out["status"].to_dict() == {"a": "reproduced", "b": "within-error", "c": "differs",
                                       "d": "not-yet", "e": "not-yet"}
    assert out.loc["b", "difference"] == pytest.approx(0.4e-4)
    assert out.loc["b", "ratio"] == pytest.approx(3.5 / 3.1)
    assert out.loc["a", "tolerance"] == pytest.approx(0.5e-5)
    assert np.isnan(out.loc["e", "difference"]) and np.isnan(out.loc["e", "ratio"])
    assert list(out.index) == ["a", "b", "c", "d", "e"]       # reference order kept


@pytest.mark.parametrize("ours, expected", [
    (3.15e-4, "reproduced"),      # exactly half a unit above: inclusive
    (3.05e-4, "reproduced"),      # exactly half a unit below
    (3.1501e-4, "within-error"),  # just past the rounding interval, inside the ±
    (3.8e-4, "within-error"),     # exactly paper + paper_error: inclusive
    (2.4e-4, "within-error"),     # exactly paper - paper_error
    (3.8001e-4, "differs"),
    (2.3999e-4, "differs"),
])
def test_rounding_and_error_edges(ours, expected):
    assert status_of(3.1e-4, 1e-5, ours, paper_error=0.7e-4) == expected


@pytest.mark.parametrize("paper, precision, ours, expected", [
    (0.26, 0.01, 0.265, "reproduced"),    # 0.265 - 0.26 is 0.0050000000000000044 in floats
    (0.26, 0.01, 0.255, "reproduced"),
    (0.26, 0.01, 0.2651, "differs"),      # no paper_error: nothing in between
    (0.04, 0.01, 0.0417, "reproduced"),   # 3/72 rounds to 0.04
    (0.0, 0.01, 0.0, "reproduced"),
    (0.0, 0.01, 0.005, "reproduced"),
    (0.0, 0.01, 0.0051, "differs"),
])
def test_rounding_edges_without_error(paper, precision, ours, expected):
    assert status_of(paper, precision, ours) == expected


@pytest.mark.parametrize("ours, expected", [
    (-0.1375, "reproduced"),
    (-0.1325, "reproduced"),
    (-0.135, "reproduced"),
    (-0.13751, "differs"),
    (-0.13249, "differs"),
    (0.135, "differs"),                 # the sign matters
])
def test_negative_numbers(ours, expected):
    assert status_of(-0.135, 0.005, ours) == expected


def test_negative_difference_and_ratio():
    r = make_ref([("x", -0.4, 0.01, np.nan)])
    out = compare(pd.DataFrame({"item": ["x"], "ours": [-0.5]}), r).iloc[0]
    assert out["difference"] == pytest.approx(-0.1)
    assert out["ratio"] == pytest.approx(1.25)
    assert out["status"] == "differs"


def test_within_our_own_error():
    assert status_of(-0.135, 0.005, -0.15, ours_error=0.02) == "within-error"
    assert status_of(-0.135, 0.005, -0.16, ours_error=0.02) == "differs"
    assert status_of(-0.135, 0.005, -0.15, ours_error=np.nan) == "differs"
    # the larger of the two errors counts
    assert status_of(1.0e-2, 1e-3, 1.5e-2, paper_error=1e-3, ours_error=6e-3) == "within-error"


def test_ratio_nan_when_paper_zero():
    out = compare(pd.DataFrame({"item": ["x"], "ours": [0.2]}), make_ref([("x", 0.0, 0.01, np.nan)]))
    assert np.isnan(out["ratio"].iloc[0]) and out["status"].iloc[0] == "differs"


def test_compare_nothing_computed(ref):
    out = compare(None)
    assert len(out) == len(ref) and (out["status"] == "not-yet").all()
    out2 = compare(pd.DataFrame({"item": [], "ours": []}))
    assert (out2["status"] == "not-yet").all()


def test_compare_against_shipped_reference(ref):
    ours = pd.DataFrame({"item": ["IC/M4/win_fraction", "LM/1.68e+07/M4/rmse", "Figure9/M2/1.07e+09/c"],
                         "ours": [50.5 / 72, 3.6e-4, -0.31]})
    out = compare(ours).set_index("item")
    assert out.loc["IC/M4/win_fraction", "status"] == "reproduced"
    assert out.loc["LM/1.68e+07/M4/rmse", "status"] == "within-error"
    assert out.loc["Figure9/M2/1.07e+09/c", "status"] == "differs"
    for col in ("source", "item", "paper", "ours", "difference", "ratio", "status"):
        assert col in out.reset_index().columns


# ---------------------------------------------------------------------------------------------
# Malformed input
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("frame, match", [
    (pd.DataFrame({"item": ["x"]}), r"lacks column\(s\) \['ours'\]"),
    (pd.DataFrame({"ours": [1.0]}), r"lacks column\(s\) \['item'\]"),
    (pd.DataFrame({"name": ["x"], "value": [1.0]}), r"\['item', 'ours'\]"),
    (pd.DataFrame({"item": ["x", "x"], "ours": [1.0, 2.0]}), "duplicate items"),
    (pd.DataFrame({"item": ["x"], "ours": ["big"]}), "must be numeric"),
    (pd.DataFrame({"item": ["x"], "ours": [1.0], "ours_error": [-0.1]}), "must be >= 0"),
    (pd.DataFrame({"item": ["typo"], "ours": [1.0]}), "not in the paper reference"),
])
def test_malformed_ours(frame, match):
    with pytest.raises(ValueError, match=match):
        compare(frame, make_ref([("x", 1.0, 0.1, np.nan)]))


def test_ours_not_a_frame():
    with pytest.raises(TypeError, match="DataFrame"):
        compare({"item": ["x"], "ours": [1.0]}, make_ref([("x", 1.0, 0.1, np.nan)]))


def test_unknown_items_dropped_when_not_strict():
    out = compare(pd.DataFrame({"item": ["x", "typo"], "ours": [1.0, 2.0]}),
                  make_ref([("x", 1.0, 0.1, np.nan)]), strict=False)
    assert out["item"].tolist() == ["x"] and out["status"].tolist() == ["reproduced"]


def test_malformed_reference():
    with pytest.raises(ValueError, match="precision"):
        compare(None, pd.DataFrame({"source": ["T"], "item": ["x"], "paper": [1.0]}))
    with pytest.raises(ValueError, match="positive rounding unit"):
        compare(None, make_ref([("x", 1.0, 0.0, np.nan)]))


# ---------------------------------------------------------------------------------------------
# Producers (pure helpers, on a fake run_benchmark frame)
# ---------------------------------------------------------------------------------------------

def fake_results() -> pd.DataFrame:
    rows = []
    curves = ([("NMT", "log_perplexity", m) for m in NMT_MODELS]
              + [("LM", "val_loss", m) for m in LM_MODELS]
              + [("BB", t, "262M") for t in BB_TASKS]
              + [("IC", t, m) for t in ("inet_5", "inet_10", "inet_25", "bird_5") for m in IC_MODELS])
    for i, (d, t, m) in enumerate(curves):
        for j, law in enumerate(LAWS):
            rows.append(dict(domain=d, task=t, model=m, law=law, rmse=0.01 + 1e-4 * i + 1e-5 * j,
                             se=0.001, c=-0.1 * (j + 1)))
    return pd.DataFrame(rows)


def test_producer_helpers_cover_their_sources(ref):
    res = fake_results()
    wins = pd.DataFrame([[0.04, 0.1, 0.16, 0.7]] * 4, index=pd.Index(["IC", "NMT", "LM", "BB"], name="domain"),
                        columns=LAWS)
    parts = {"Table 2": ledger.table2_from_results(res), "Table 3": ledger.table3_from_results(res),
             "Figure 1": ledger.figure1_from_win_fractions(wins),
             "Figure 6": ledger.figure6_from_results(res), "Figure 9": ledger.figure9_from_results(res)}
    for source, frame in parts.items():
        expected = set(ref.loc[ref["source"] == source, "item"])
        assert set(frame["item"]) == expected, source
        out = compare(frame)                       # strict: every key is a reference key
        assert (out.loc[out["source"] == source, "status"] != "not-yet").all()
    t2 = parts["Table 2"].set_index("item")
    assert t2.loc["LM/1.68e+07/M1/se", "ours"] == pytest.approx(0.001)
    assert t2.loc["LM/1.68e+07/M1/rmse", "ours_error"] == pytest.approx(0.001)
    assert np.isnan(t2.loc["NMT/Dec-only/M4/rmse", "ours_error"])


def test_builtin_producers_registered():
    regs = ledger.producers()
    for source in ("Table 2", "Table 3", "Figure 1", "Figure 6", "Figure 9"):
        assert source in regs and regs[source]


def test_a_failing_producer_propagates_and_a_malformed_frame_names_its_producer(monkeypatch):
    """A broken producer is an error to fix, never a silently missing row."""
    monkeypatch.setattr(ledger, "_REGISTRY", {})

    @register_producer("Table 2")
    def broken():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        ledger.compute_ours(["Table 2"])
    monkeypatch.setattr(ledger, "_REGISTRY", {})

    @register_producer("Table 2")
    def malformed():
        return pd.DataFrame({"item": ["NMT/Dec-only/M4/rmse"]})

    with pytest.raises(ValueError, match="producer Table 2: malformed returned a malformed frame"):
        ledger.compute_ours(["Table 2"])


def test_register_producer_validates():
    with pytest.raises(ValueError):
        register_producer("")
    with pytest.raises(TypeError):
        register_producer("Table 2")(42)


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------

REQUIRED_LEDGER_COLUMNS = ["source", "item", "paper", "ours", "status", "difference", "ratio",
                           "paper_text", "paper_error", "ours_error", "precision", "note"]


def test_cli_with_empty_registry(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(ledger, "_REGISTRY", {})
    out = tmp_path / "sub" / "ledger.csv"
    assert cli.ledger(["--out", str(out)]) == 0
    df = pd.read_csv(out, dtype={"item": str, "model": str})
    for col in REQUIRED_LEDGER_COLUMNS:
        assert col in df.columns
    assert len(df) == 230 and (df["status"] == "not-yet").all()
    printed = capsys.readouterr().out
    assert "not-yet" in printed and "Table 2" in printed and "wrote 230 rows" in printed


def test_cli_runs_registered_producers(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(ledger, "_REGISTRY", {})

    @register_producer("Table 2")
    def fake():
        return pd.DataFrame({"item": ["NMT/Dec-only/M4/rmse", "LM/1.07e+09/M4/rmse"],
                             "ours": [0.0104, 0.0099], "ours_error": [np.nan, 0.0002]})

    out = tmp_path / "ledger.csv"
    assert cli.ledger(["ledger", "--out", str(out), "--only", "Table 2", "--only", "Figure 2",
                        "--no-variants"]) == 0
    df = pd.read_csv(out).set_index("item")
    assert set(df["source"]) == {"Table 2", "Figure 2"} and len(df) == 72
    assert df.loc["NMT/Dec-only/M4/rmse", "status"] == "reproduced"
    assert df.loc["LM/1.07e+09/M4/rmse", "status"] == "differs"
    assert (df.loc[df["source"] == "Figure 2", "status"] == "not-yet").all()
    # a producer registered for both estimators fills both columns
    assert df.loc["NMT/Dec-only/M4/rmse", "ours_global"] == pytest.approx(0.0104)
    assert df.loc["NMT/Dec-only/M4/rmse", "status_global"] == "reproduced"
    assert df.loc["LM/1.07e+09/M4/rmse", "cause"] == "unexplained"
    assert (df.loc[df["source"] == "Figure 2", "cause"] == "not-computed").all()


def test_cli_no_compute_and_errors(tmp_path, monkeypatch, capsys):
    def boom():
        raise AssertionError("producers must not run with --no-compute")
    monkeypatch.setattr(ledger, "_REGISTRY", {"Table 2": [boom]})
    out = tmp_path / "l.csv"
    assert cli.ledger(["--out", str(out), "--no-compute", "--quiet"]) == 0
    assert capsys.readouterr().out == ""
    assert (pd.read_csv(out)["status"] == "not-yet").all()
    with pytest.raises(SystemExit):
        cli.ledger(["--out", str(out), "--only", "Table 9"])
    with pytest.raises(SystemExit):
        cli.ledger([])                     # --out is required
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        cli.ledger(["--out", str(out), "--only", "Table 9"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and len(err.splitlines()) == 1 and "unknown --only source" in err, err


def test_cli_rejects_bad_producer_output(tmp_path, monkeypatch):
    monkeypatch.setattr(ledger, "_REGISTRY", {"Table 2": [lambda: pd.DataFrame({"item": ["x"]})]})
    with pytest.raises(ValueError, match="lacks column"):
        cli.ledger(["--out", str(tmp_path / "l.csv")])


# ---------------------------------------------------------------------------------------------
# Two estimators, the Figure 1 tie rule, causes
# ---------------------------------------------------------------------------------------------

NEW_LEDGER_COLUMNS = ["ours_global", "status_global", "cause", "cause_detail", "reproduced_by"]


def test_figure1_tie_rule_is_one_mapping():
    from scaling import evaluate

    assert evaluate.FIGURE1_TIE_RULE == {"IC": "split", "NMT": "credit-all", "LM": "credit-all",
                                         "BB": "credit-all"}
    assert ledger.FIGURE1_TIE_RULE is evaluate.FIGURE1_TIE_RULE
    from scaling.ledger.variants import BASELINE, VARIANTS

    assert dict(VARIANTS[BASELINE].tie_rule) == evaluate.FIGURE1_TIE_RULE


def tied_results() -> pd.DataFrame:
    """Two curves per domain; on the second one M2 and M4 tie after truncation to 3 decimals."""
    rows = []
    for d in ("IC", "NMT", "LM", "BB"):
        for t, rmses in (("a", (0.05, 0.04, 0.03, 0.01)), ("b", (0.05, 0.0123, 0.03, 0.0129))):
            for law, r in zip(LAWS, rmses):
                rows.append(dict(domain=d, task=t, model="m", law=law, rmse=r, se=0.001, c=-0.2))
    return pd.DataFrame(rows)


def test_win_fractions_accept_the_domain_mapping():
    from scaling.evaluate import FIGURE1_TIE_RULE, win_fractions

    wins = win_fractions(tied_results(), rule=FIGURE1_TIE_RULE)
    assert wins.loc["IC"].to_dict() == pytest.approx({"M1": 0, "M2": 0.25, "M3": 0, "M4": 0.75})
    for d in ("NMT", "LM", "BB"):
        assert wins.loc[d].to_dict() == pytest.approx({"M1": 0, "M2": 0.5, "M3": 0, "M4": 1.0})
    with pytest.raises(ValueError, match="no entry for domain"):
        win_fractions(tied_results(), rule={"IC": "split"})
    with pytest.raises(ValueError, match="unknown rule"):
        win_fractions(tied_results(), rule={d: "best" for d in FIGURE1_TIE_RULE})


def test_benchmark_items_use_the_figure1_tie_rule():
    items = ledger.benchmark_items(tied_results(), sources=["Figure 1"]).set_index("item")["ours"]
    assert items["IC/M4/win_fraction"] == pytest.approx(0.75)      # split
    assert items["NMT/M4/win_fraction"] == pytest.approx(1.0)      # credit-all
    assert items["BB/M2/win_fraction"] == pytest.approx(0.5)
    split = ledger.benchmark_items(tied_results(), tie_rule="split", sources=["Figure 1"])
    assert split.set_index("item").loc["NMT/M4/win_fraction", "ours"] == pytest.approx(0.75)
    se = ledger.figure1_wins(tied_results(), {"IC": "split", "NMT": "within-se", "LM": "within-se",
                                              "BB": "within-se"})
    assert se.loc["NMT"].to_dict() == pytest.approx({"M1": 0, "M2": 0.5, "M3": 0, "M4": 1.0})
    # a domain with fewer than four laws gives no bars
    part = tied_results()
    part = part[~((part["domain"] == "LM") & (part["law"] == "M3"))]
    got = set(ledger.benchmark_items(part, sources=["Figure 1"])["item"])
    assert "IC/M4/win_fraction" in got and not any(i.startswith("LM/") for i in got)
    with pytest.raises(ValueError, match="not benchmark sources"):
        ledger.benchmark_items(tied_results(), sources=["Figure 2"])


def test_figure1_producers_follow_the_tie_rule(monkeypatch):
    """Both Figure 1 producers (released emulation and global fits) apply FIGURE1_TIE_RULE."""
    monkeypatch.setattr(ledger, "_released_results", lambda source: tied_results())
    monkeypatch.setattr(ledger, "_benchmark_results", lambda: tied_results())
    for estimator in ledger.ESTIMATORS:
        got = ledger.compute_ours(["Figure 1"], estimator=estimator).set_index("item")["ours"]
        assert got["IC/M4/win_fraction"] == pytest.approx(0.75) and got["LM/M4/win_fraction"] == 1.0


def test_register_producer_estimators():
    with pytest.raises(ValueError, match="unknown estimator"):
        register_producer("Table 2", "local")


def test_cause_vocabulary():
    assert ledger.CAUSE_KINDS == ("paper-repeats-row", "variant", "rounding/reading", "se-formula",
                                  "unreleased-data", "unexplained", "not-computed")
    assert ledger.cause_kind("variant:lr=1e-7") == "variant"
    assert ledger.cause_kind("se-formula") == "se-formula"
    assert ledger.cause_kind("") is None and ledger.cause_kind(np.nan) is None
    for bad in ("variant:nope", "variant", "typo", "unexplained:x"):
        with pytest.raises(ValueError):
            ledger.cause_kind(bad)


def _item_row(ref, item):
    return ref.loc[ref["item"] == item].iloc[0]


def hand_ledger_and_sweep(ref):
    """A ledger with one row of each cause, and a sweep for the benchmark rows among them."""
    ours = {
        # the released fit reproduces the paper's '6 Enc, 6 Dec' row; the paper repeats it for Dec-only
        "NMT/6 Enc, 6 Dec/M2/rmse": 0.039, "NMT/6 Enc, 6 Dec/M3/rmse": 0.089, "NMT/6 Enc, 6 Dec/M4/rmse": 0.010,
        "NMT/Dec-only/M2/rmse": 0.011, "NMT/Dec-only/M3/rmse": 0.033, "NMT/Dec-only/M4/rmse": 0.008,
        "NMT/TEnc-LSTM/M3/rmse": 0.0629,              # one printed unit off: tables are rounded, not read
        "NMT/TEnc-LSTM/M4/rmse": 0.030,               # nothing explains it
        "LM/1.68e+07/M1/rmse": 0.0064,                # a variant (the LM cut) reproduces it
        "LM/4.53e+08/M1/rmse": 0.017, "LM/4.53e+08/M1/se": 0.0007,   # RMSE reproduced, ± not
        "Figure6/M4/BiT/50/1/inet_5/c": -0.596,       # within the reading accuracy (0.005)
        "Figure2/cutoff=0/M2/c": -0.09,               # our simulation of unreleased data
    }
    frame = pd.DataFrame({"item": list(ours), "ours": list(ours.values())})
    led = compare(frame, ref)
    led["ours_global"], led["status_global"] = led["ours"], led["status"]
    rows = []
    for item, value in ours.items():
        if item.startswith("Figure2"):
            continue
        r = _item_row(ref, item)
        for variant, v in (("released", value), ("LM common cut", 0.0149 if item == "LM/1.68e+07/M1/rmse"
                                                   else value)):
            rows.append(dict(item=item, source=r["source"], domain=r["domain"], law=r["law"],
                             quantity=r["quantity"], variant=variant, value=v, error=np.nan,
                             changed=variant == "released" or v != value, paper=r["paper"],
                             paper_text=r["paper_text"], precision=r["precision"],
                             distance=abs(v - r["paper"]) / r["precision"], status=None))
    sweep = pd.DataFrame(rows)
    # statuses per (item, variant) by the ledger's own rule
    sweep["status"] = [compare(pd.DataFrame({"item": [r.item], "ours": [r.value]}),
                               ref[ref["item"] == r.item])["status"].iloc[0] for r in sweep.itertuples()]
    return led, sweep


def test_assign_causes(ref):
    led, sweep = hand_ledger_and_sweep(ref)
    out = ledger.assign_causes(led, sweep).set_index("item")
    cause = out["cause"]
    assert cause["NMT/6 Enc, 6 Dec/M2/rmse"] == "" and out.loc["NMT/6 Enc, 6 Dec/M2/rmse", "status"] == "reproduced"
    for law in ("M2", "M3", "M4"):
        assert cause[f"NMT/Dec-only/{law}/rmse"] == "paper-repeats-row", law
    assert "'6 Enc, 6 Dec'" in out.loc["NMT/Dec-only/M2/rmse", "cause_detail"]
    assert cause["NMT/TEnc-LSTM/M3/rmse"] == "unexplained"
    assert "0.9 printed units" in out.loc["NMT/TEnc-LSTM/M3/rmse", "cause_detail"]
    assert cause["NMT/TEnc-LSTM/M4/rmse"] == "unexplained"
    assert "closest variant 'released'" in out.loc["NMT/TEnc-LSTM/M4/rmse", "cause_detail"]
    assert cause["LM/1.68e+07/M1/rmse"] == "variant:LM common cut"
    assert out.loc["LM/1.68e+07/M1/rmse", "reproduced_by"] == "LM common cut"
    assert cause["LM/4.53e+08/M1/se"] == "se-formula"
    assert cause["Figure6/M4/BiT/50/1/inet_5/c"] == "rounding/reading"
    assert cause["Figure2/cutoff=0/M2/c"] == "unreleased-data"
    # every other row has no value: not computed
    computed = out["ours"].notna()
    assert (out.loc[~computed, "cause"] == "not-computed").all()
    assert_causes_complete(out.reset_index())
    counts = ledger.summarize_causes(out.reset_index())
    assert counts.loc["total", "paper-repeats-row"] == 3 and counts.loc["total", "total"] == (
        out["cause"] != "").sum()


def test_assign_causes_without_a_sweep(ref):
    led, _ = hand_ledger_and_sweep(ref)
    out = ledger.assign_causes(led).set_index("item")
    assert out.loc["LM/1.68e+07/M1/rmse", "cause"] == "unexplained"   # no variant was tried
    assert "no protocol variant" in out.loc["LM/1.68e+07/M1/rmse", "cause_detail"]
    assert_causes_complete(out.reset_index())


def assert_causes_complete(led: pd.DataFrame) -> None:
    """No row that disagrees with the paper lacks a cause; every cause is in the vocabulary."""
    good = led["status"].isin(ledger.GOOD_STATUSES)
    cause = led["cause"].fillna("").astype(str)
    assert (cause[~good] != "").all(), led.loc[~good & (cause == ""), "item"].tolist()
    assert (cause[good] == "").all()
    kinds = cause[~good].map(ledger.cause_kind)
    assert set(kinds) <= set(ledger.CAUSE_KINDS)
    assert (led.loc[~good, "cause_detail"].fillna("").astype(str) != "").all()


def test_cli_writes_the_new_columns_on_a_cheap_source(tmp_path, capsys, bench):
    """Figure 3 (M2 at fixed exponents on one curve, under a second) through the real CLI."""
    out = tmp_path / "ledger.csv"
    assert cli.ledger(["--out", str(out), "--only", "Figure 3"]) == 0
    df = pd.read_csv(out, keep_default_na=False, na_values=[""])
    for col in REQUIRED_LEDGER_COLUMNS + NEW_LEDGER_COLUMNS:
        assert col in df.columns, col
    assert len(df) == 6 and df["ours"].notna().all()
    assert np.allclose(df["ours_global"], df["ours"])            # one producer serves both columns
    assert (df["status_global"] == df["status"]).all()
    assert_causes_complete(df)
    printed = capsys.readouterr().out
    assert "ours_global" in printed and "Cause of every row" in printed and "wrote 6 rows" in printed


def test_cli_with_the_variant_sweep(tmp_path, monkeypatch, capsys, bench):
    """Table 3 end to end with a fake released runner (instant) and fake global fits."""
    from scaling.ledger import variants

    def fake_runner(curves, laws, progress, options):
        rows = []
        for c in curves:
            for law in laws:
                rmse = 0.011 if options.get("lr") else 0.0042 if law in ("M1", "M3") else 0.02
                rows.append(dict(domain=c.domain, task=c.task, model=c.model, law=law, rmse=rmse, se=0.0004,
                                 c=-0.1))
        return pd.DataFrame(rows)

    variants.clear_cache()
    monkeypatch.setattr(variants, "_run_released", fake_runner)
    monkeypatch.setattr(ledger, "_benchmark_results", fake_results)
    out, sweep_csv = tmp_path / "ledger.csv", tmp_path / "sweep.csv"
    try:
        assert cli.ledger(["--out", str(out), "--only", "Table 3", "--variants", str(sweep_csv)]) == 0
    finally:
        variants.clear_cache()
    df = pd.read_csv(out, keep_default_na=False, na_values=[""]).set_index("item")
    assert len(df) == 80
    assert_causes_complete(df.reset_index())
    # qa_wikidata 1-shot M1 prints 4.2e-3: reproduced by the fake baseline
    assert df.loc["BB/('qa', '1-shot')/M1/rmse", "status"] == "reproduced"
    assert df.loc["BB/('qa', '1-shot')/M1/rmse", "reproduced_by"] == "released"
    # mult_data_wrangling 1-shot M2 prints 1.1e-2: only the lr=1e-7 fits give it
    assert df.loc["BB/('mult', '1-shot')/M2/rmse", "cause"] == "variant:lr=1e-7"
    assert df.loc["BB/('mult', '1-shot')/M2/rmse", "status_global"] in STATUSES_ALL
    tidy = pd.read_csv(sweep_csv)
    assert set(tidy["variant"]) == set(variants.VARIANTS) and set(tidy["source"]) == {"Table 3"}
    printed = capsys.readouterr().out
    assert "variant" in printed and "wrote 80 rows" in printed


STATUSES_ALL = ("reproduced", "within-error", "differs", "not-yet")


def test_cli_variants_flag_conflicts(tmp_path):
    with pytest.raises(SystemExit):
        cli.ledger(["--out", str(tmp_path / "l.csv"), "--no-variants", "--variants", str(tmp_path / "v.csv")])
