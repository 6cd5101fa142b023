"""Tests of the scorecard: one line per paper item, statuses by the documented rule, links that exist."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from scaling.studies import scorecard as sc
from scaling.studies import scorecard_plots
from scaling.ledger import load_reference

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
PAPER_ITEMS = ["Table 1", "Table 2", "Table 3"] + [f"Figure {i}" for i in range(1, 10)] + [
    "Appendix A.1", "Appendix A.2", "Appendix A.3"]
IC_MODELS = list(sc.TABLE1_MODELS)


# ---------------------------------------------------------------------------------------------
# Hand-made inputs
# ---------------------------------------------------------------------------------------------

def hand_ledger(overrides: dict | None = None) -> pd.DataFrame:
    """The paper's 230 numbers with ours equal to the paper's (all reproduced), then ``overrides``:
    ``{item: (ours, status, cause)}``."""
    led = load_reference()
    led["ours"] = led["paper"]
    led["status"] = "reproduced"
    led["cause"] = ""
    for item, (ours, status, cause) in (overrides or {}).items():
        hit = led["item"] == item
        assert hit.sum() == 1, item
        led.loc[hit, ["ours", "status", "cause"]] = [ours, status, cause]
    return led


def hand_released(models=IC_MODELS, m4_best=True) -> pd.DataFrame:
    """Released fits of the ImageNet 10-shot curves: M4 the best (or the worst) of the four laws."""
    rows = []
    for m in models:
        for law, rmse in zip(("M1", "M2", "M3", "M4"), (0.05, 0.04, 0.03, 0.01 if m4_best else 0.09)):
            rows.append(dict(domain="IC", task="inet_10", model=m, law=law, rmse=rmse))
    return pd.DataFrame(rows)


def tiny_item(**kw) -> sc.PaperItem:
    """A ``rows`` item over the rows of source "T" of a tiny ledger."""
    kw.setdefault("key", lambda led, rel: sc.Key("k", "1", "1"))
    return sc.PaperItem("Tiny", "a tiny item", "rows", (("summary", ""),), sources=("T",), **kw)


def tiny_ledger(statuses, causes=None, quantities=None) -> pd.DataFrame:
    n = len(statuses)
    causes = causes or ["" if s in ("reproduced", "within-error") else "unexplained" for s in statuses]
    return pd.DataFrame({
        "source": "T", "item": [f"T/{i}" for i in range(n)], "status": statuses, "cause": causes,
        "paper": 1.0, "ours": 1.0, "precision": 0.1, "quantity": quantities or ["rmse"] * n,
        "law": "M1", "domain": "NMT", "task": "t", "model": "m",
    })


# ---------------------------------------------------------------------------------------------
# Every item once, statuses from the vocabulary
# ---------------------------------------------------------------------------------------------

def test_every_paper_item_appears_once():
    names = [it.name for it in sc.ITEMS]
    assert names == PAPER_ITEMS
    card = sc.scorecard(hand_ledger(), hand_released())
    assert list(card.index) == PAPER_ITEMS
    assert card.index.is_unique


def test_statuses_come_from_the_vocabulary():
    assert sc.STATUSES == ("reproduced", "within error", "close", "differs",
                           "cannot be reproduced from the released data", "not compared")
    for led in (hand_ledger(), hand_ledger({"IC/M1/win_fraction": (0.5, "differs", "unexplained")})):
        card = sc.scorecard(led, hand_released())
        assert set(card["status"]) <= set(sc.STATUSES)
        assert set(card["kind"]) <= set(sc.KINDS)


def test_an_all_reproduced_ledger():
    card = sc.scorecard(hand_ledger(), hand_released())
    judged = card[card["kind"] != "fixed"]
    assert (judged["status"] == "reproduced").all(), judged["status"].to_dict()
    assert card.loc["Figure 4", "status"] == "cannot be reproduced from the released data"
    assert card.loc["Figure 4", "main_cause"] == "unreleased-data"
    assert card.loc["Appendix A.1", "status"] == card.loc["Appendix A.2", "status"] == "not compared"
    # the rows items count their rows; the "±" cells of the tables are counted apart
    assert card.loc["Table 2", ["n_rows", "n_pm_rows", "n_pm_agree"]].tolist() == [40, 20, 20]
    assert card.loc["Table 3", ["n_rows", "n_pm_rows"]].tolist() == [40, 40]
    assert card.loc["Figure 1", "n_rows"] == 16 and card.loc["Appendix A.3", "n_rows"] == 1
    assert card.loc["Figure 1", ["key", "ours", "paper_value"]].tolist() == ["share of IC curves M4 wins", "0.70", "0.70"]
    assert (card["main_cause"][card["kind"] != "fixed"] == "").all()


# ---------------------------------------------------------------------------------------------
# The rule
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("statuses, expected", [
    (["reproduced"] * 3, "reproduced"),
    (["reproduced", "within-error", "reproduced"], "within error"),
    (["within-error"], "within error"),
    (["reproduced", "reproduced", "differs"], "close"),            # 2 of 3 agree: most
    (["within-error", "within-error", "reproduced", "differs"], "close"),
    (["reproduced", "differs"], "differs"),                         # exactly half: not most
    (["reproduced", "reproduced", "differs", "differs"], "differs"),
    (["differs"], "differs"),
])
def test_status_from_rows(statuses, expected):
    assert sc.status_from_rows(statuses) == expected


@pytest.mark.parametrize("bad", [[], ["reproduced", "not-yet"], ["typo"]])
def test_status_from_rows_refuses(bad):
    with pytest.raises(ValueError):
        sc.status_from_rows(bad)


@pytest.mark.parametrize("statuses", [
    ["reproduced"] * 4, ["reproduced", "within-error", "differs", "reproduced"],
    ["differs", "differs", "reproduced", "within-error"], ["within-error"] * 2 + ["differs"] * 3,
])
def test_the_card_follows_the_rule_on_a_tiny_ledger(statuses):
    line = sc.scorecard(tiny_ledger(statuses), items=[tiny_item()]).iloc[0]
    assert line["status"] == sc.status_from_rows(statuses)
    assert line["n_rows"] == len(statuses)
    assert line["n_reproduced"] == statuses.count("reproduced")
    assert line["n_within_error"] == statuses.count("within-error")
    assert line["n_differs"] == statuses.count("differs")


def test_pm_cells_are_counted_but_not_judged():
    led = tiny_ledger(["reproduced", "reproduced", "differs", "differs", "reproduced"],
                      causes=["", "", "se-formula", "se-formula", ""],
                      quantities=["rmse", "rmse", "se", "se", "se"])
    line = sc.scorecard(led, items=[tiny_item(judged=lambda f: f["quantity"] != "se")]).iloc[0]
    assert line["status"] == "reproduced"
    assert (line["n_rows"], line["n_pm_rows"], line["n_pm_agree"]) == (2, 3, 1)
    # judged, the same rows decide otherwise
    assert sc.scorecard(led, items=[tiny_item()]).iloc[0]["status"] == "close"


def test_main_cause_is_the_most_frequent_kind_ties_in_vocabulary_order():
    led = tiny_ledger(["differs"] * 5, causes=["unexplained", "unexplained", "se-formula", "se-formula",
                                               "variant:lr=1e-7"])
    line = sc.scorecard(led, items=[tiny_item()]).iloc[0]
    assert line["main_cause"] == "se-formula"           # tie with unexplained: se-formula comes first
    led = tiny_ledger(["differs"] * 3, causes=["variant:LM common cut", "variant:LM common cut", "unexplained"])
    line = sc.scorecard(led, items=[tiny_item()]).iloc[0]
    assert line["main_cause"] == "variant" and "LM common cut" in line["cause"]


def test_a_disagreeing_row_without_a_cause_is_refused():
    led = tiny_ledger(["differs"], causes=[""])
    with pytest.raises(ValueError, match="cause"):
        sc.scorecard(led, items=[tiny_item()])


def test_missing_sources_or_columns_are_refused():
    led = hand_ledger()
    with pytest.raises(ValueError, match="Figure 9"):
        sc.scorecard(led[led["source"] != "Figure 9"], hand_released())
    with pytest.raises(ValueError, match="cause"):
        sc.scorecard(led.drop(columns="cause"), hand_released())
    with pytest.raises(ValueError, match="released"):
        sc.scorecard(led, None)


# ---------------------------------------------------------------------------------------------
# The items, one by one
# ---------------------------------------------------------------------------------------------

def test_figure1_half_agree_differs_and_a3_follows_the_ic_m4_bar():
    bad = {f"BB/{law}/win_fraction": (0.1, "differs", "unexplained") for law in ("M1", "M2", "M3", "M4")}
    bad |= {f"IC/{law}/win_fraction": (0.5, "differs", "unexplained") for law in ("M1", "M2", "M3")}
    bad["LM/M2/win_fraction"] = (0.8, "differs", "variant:ties within-SE")
    card = sc.scorecard(hand_ledger(bad), hand_released())
    assert card.loc["Figure 1", "status"] == "differs"            # 8 of 16
    assert card.loc["Figure 1", "main_cause"] == "unexplained"
    assert card.loc["Appendix A.3", "status"] == "reproduced"      # IC M4's bar is the paper's
    bad["IC/M4/win_fraction"] = (0.5, "differs", "unexplained")
    card = sc.scorecard(hand_ledger(bad), hand_released())
    assert card.loc["Appendix A.3", "status"] == "differs"
    assert card.loc["Appendix A.3", ["ours", "paper_value"]].tolist() == ["0.50", "0.70"]


def test_tables_judged_on_rmse_and_keyed_on_m4_wins():
    led = hand_ledger({"NMT/6 Enc, 6 Dec/M4/rmse": (0.5, "differs", "unexplained"),
                       "LM/1.68e+07/M4/se": (0.0001, "differs", "se-formula")})
    card = sc.scorecard(led, hand_released())
    assert card.loc["Table 2", "status"] == "close"               # 39 of 40 RMSE
    assert (card.loc["Table 2", "n_pm_agree"], card.loc["Table 2", "n_pm_rows"]) == (19, 20)
    # the paper: M4 lowest (ties at the printed digits count) in 4 NMT + 3 LM rows; ours lost one
    assert card.loc["Table 2", ["ours", "paper_value"]].tolist() == ["6 of 10", "7 of 10"]
    assert card.loc["Table 3", "paper_value"] == "3 of 10"


def test_claims_are_computed_from_the_paper_and_from_ours():
    # Figure 7: the larger ViT flattens at 10 shots in ours; Figure 6 counts the pairs over 3 shots
    led = hand_ledger({"Figure6/M4/ViT/B/16/inet_10/c": (-0.2, "differs", "unexplained")})
    card = sc.scorecard(led, hand_released())
    assert card.loc["Figure 7", ["status", "ours", "paper_value"]].tolist() == ["differs", "2 of 3", "3 of 3"]
    assert card.loc["Figure 7", "main_cause"] == "unexplained"
    assert card.loc["Figure 6", ["ours", "paper_value"]].tolist() == ["8 of 9", "9 of 9"]
    # Figure 8: M1 no longer the worst on one size
    led = hand_ledger({"LM/1.07e+09/M1/rmse": (0.001, "differs", "unexplained")})
    card = sc.scorecard(led, hand_released())
    assert card.loc["Figure 8", ["status", "ours", "paper_value"]].tolist() == ["differs", "4 of 5", "5 of 5"]
    # Figure 5 and Table 1 from the released fits
    card = sc.scorecard(hand_ledger(), hand_released(m4_best=False))
    assert card.loc["Figure 5", ["status", "ours"]].tolist() == ["differs", "0 of 2"]
    assert card.loc["Figure 5", "main_cause"] == "unexplained"
    card = sc.scorecard(hand_ledger(), hand_released(models=IC_MODELS[:5]))
    assert card.loc["Table 1", ["status", "ours", "paper_value"]].tolist() == ["differs", "5 of 6", "6 of 6"]
    assert card.loc["Figure 5", "status"] == "differs"             # MiX/L/16 missing


def test_paper_items_validate():
    with pytest.raises(ValueError, match="kind"):
        sc.PaperItem("X", "x", "picture", ())
    with pytest.raises(ValueError, match="fixed"):
        sc.PaperItem("X", "x", "fixed", ())
    with pytest.raises(ValueError, match="status"):
        sc.PaperItem("X", "x", "fixed", (), status="fine")


# ---------------------------------------------------------------------------------------------
# Links
# ---------------------------------------------------------------------------------------------

def _toc_files() -> set[str]:
    text = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    return set(re.findall(r"(?:file|root):\s*book/(\S+)", text))


def _headings(chapter: str) -> list[str]:
    """The MyST headings of a chapter, outside code cells and code blocks (backtick fences)."""
    heads, fence = [], None
    for line in (BOOK / f"{chapter}.md").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^(`{3,})", line)
        if m:
            if fence is None:
                fence = m.group(1)
            elif line.strip() == "`" * len(line.strip()) and len(line.strip()) >= len(fence):
                fence = None
            continue
        h = re.match(r"^#{1,6}\s+(.*?)\s*$", line) if fence is None else None
        if h:
            heads.append(h.group(1))
    return heads


def test_heading_anchor_is_the_docutils_id():
    docutils_nodes = pytest.importorskip("docutils.nodes")
    samples = ["Table 2 (top): the paper's method beside the paper", 'What the "±" column measures',
               "M4's $\\varepsilon_0$", "Figure 5: ViT/B/16 and MiX/L/16", "90 or 92 tasks?",
               "How the `scaling` solver works"]
    for chapter in ("benchmark", "translation", "language_modelling", "image_classification", "bigbench"):
        samples += _headings(chapter)
    for text in samples:
        plain = re.sub(r"[$`*]", "", text)
        assert sc.heading_anchor(text) == docutils_nodes.make_id(docutils_nodes.fully_normalize_name(plain)), text


def test_every_link_points_to_a_chapter_and_a_heading_that_exist():
    toc = _toc_files()
    for it in sc.ITEMS:
        assert it.links, it.name
        for chapter, heading in it.links:
            assert chapter in toc, f"{it.name}: {chapter} is not a page of the book"
            if heading:
                heads = _headings(chapter)
                assert heading in heads, f"{it.name}: no heading {heading!r} in book/{chapter}.md"
                anchors = [sc.heading_anchor(h) for h in heads]
                assert anchors.index(sc.heading_anchor(heading)) == heads.index(heading), \
                    f"{it.name}: another heading of {chapter} has the same anchor"
    card = sc.scorecard(hand_ledger(), hand_released())
    for sections in card["sections"]:
        for s in sections:
            assert re.fullmatch(r"[a-z_]+\.md(#[a-z][a-z0-9-]*)?", s), s


def test_style_scorecard_is_compact_and_linked():
    card = sc.scorecard(hand_ledger(), hand_released())
    html = scorecard_plots.style_scorecard(card).to_html()
    assert "col_0" not in html
    assert "translation.html#table-2-top-the-paper-s-method-beside-the-paper" in html
    assert "appendix_alpha.html'" in html
    assert html.count("<tr>") == len(card) + 1
    header = re.findall(r"<th [^>]*>([^<]*)</th>", html)
    assert header[:3] == ["Paper", "Status", "Agree"] and not any(h.startswith("col_") or h == "" for h in header)
    assert "ipynb#" in scorecard_plots.style_scorecard(card, link_suffix=".ipynb").to_html()


# ---------------------------------------------------------------------------------------------
# The cache of run_ledger
# ---------------------------------------------------------------------------------------------

def test_run_ledger_is_computed_once_per_source_key(tmp_path, monkeypatch):
    monkeypatch.setenv("SCALING_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("SCALING_RESULTS_CACHE", "1")
    calls = []

    def fake_compute(progress):
        calls.append(1)
        return sc.LedgerRun(hand_ledger(), pd.DataFrame(), hand_released())

    monkeypatch.setattr(sc, "_compute", fake_compute)
    first = sc.run_ledger()
    second = sc.run_ledger()
    assert len(calls) == 1 and second.key == first.key and re.fullmatch(r"[0-9a-f]{64}", second.key)
    pd.testing.assert_frame_equal(first.ledger, second.ledger)
    assert list(sc.book_scorecard(second).index) == PAPER_ITEMS
    sc.run_ledger(cache=False)  # switched off: recomputed
    assert len(calls) == 2 and len(list((tmp_path / "results").glob("ledger-*.pkl"))) == 1


def test_variant_effects_counts_moves_gains_and_losses():
    rows = []
    for variant, values in {"released": [("a", 1.0, "reproduced"), ("b", 2.0, "differs"), ("c", 3.0, "differs")],
                            "lr=1e-7": [("a", 1.1, "reproduced"), ("b", 2.0, "differs"), ("c", 3.0, "differs")],
                            "eps0 fixed": [("a", 5.0, "differs"), ("b", 2.1, "within-error"), ("c", 3.0, "differs")]
                            }.items():
        for item, value, status in values:
            rows.append(dict(item=item, variant=variant, value=value, status=status,
                             changed=variant == "released" or (item, value) not in
                             {("a", 1.0), ("b", 2.0), ("c", 3.0)}))
    out = sc.variant_effects(pd.DataFrame(rows))
    assert list(out.index) == ["released", "lr=1e-7", "eps0 fixed"]
    assert out.loc["released"].tolist() == [0, 1, 0, 0]
    assert out.loc["lr=1e-7"].tolist() == [1, 1, 0, 0]       # moved a number, changed no status
    assert out.loc["eps0 fixed"].tolist() == [2, 1, 1, 1]
    with pytest.raises(ValueError, match="baseline"):
        sc.variant_effects(pd.DataFrame(rows).query("variant != 'released'"))
