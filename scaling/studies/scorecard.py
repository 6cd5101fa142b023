"""The scorecard: one line per table and figure of the paper, judged from the ledger.

:mod:`scaling.ledger.core` lines up the paper's 230 printed numbers with ours, row by row. The
scorecard folds those rows into one line per item of the paper (Tables 1-3, Figures 1-9 and the
appendix sections A.1-A.3), so that a reader sees in one screen what reproduces and what does not.
It judges the paper against its own method: the ledger's ``ours`` / ``status`` columns, computed
with the emulation of the authors' released code.

Statuses (:data:`STATUSES`)
---------------------------
Every line gets exactly one of these, by the rule of its *kind* (:data:`KINDS`):

``rows`` -- items that print numbers the ledger holds (Tables 2 and 3, Figures 1, 2, 3, 6, 9,
and Appendix A.3 through the one number the main text gives about it). Among the item's *judged*
ledger rows, let ``n`` be their number, ``r`` those ``reproduced`` and ``g`` those reproduced or
``within-error``:

* ``reproduced``   -- ``r == n``: every judged number rounds to what the paper prints;
* ``within error`` -- ``g == n`` (and ``r < n``): every judged number agrees at least within the
  paper's ± (or our own standard error);
* ``close``        -- ``n/2 < g < n``: most, but not all, judged numbers agree;
* ``differs``      -- ``g <= n/2``: at most half of them agree.

  The judged rows are all of the item's rows, except the "±" cells of Tables 2 and 3: the paper
  never says how it computed its "±" (:mod:`scaling.studies.se_search` shows that no formula of a broad
  family gives it), so those cells are counted on the line (``n_pm_rows``, ``n_pm_agree``) but do
  not decide it.

``claim`` -- items that print no number (Table 1, a list of models; Figures 5, 7 and 8, pictures of
fits). Each is judged on the one check the paper states or shows, computed the same way from the
paper's numbers (or its text) and from ours; ``reproduced`` when the two answers are equal,
``differs`` otherwise. The check is the line's key pair (``key``, ``ours``, ``paper_value``).

The checks: Table 1 -- how many of its six architectures have curves in the released data;
Figure 5 -- on how many of its two panels (ViT/B/16 and MiX/L/16, ImageNet 10-shot) M4 has the
lowest extrapolation RMSE among M1-M4 (RMSEs truncated to 3 decimals as the notebook compares
them, ties counting; the paper: both, as its caption says); Figure 7 -- in how many of the three
model families the larger model has the more negative M4 exponent at 10 shots (its slope; from
the Figure 6 rows of the ledger, ours and the paper's); Figure 8 -- on how many of the five
language models M1 has the largest RMSE (from the LM rows of Table 2, both compared at the
paper's printed digits).

``fixed`` -- ``cannot be reproduced from the released data`` for Figure 4 (runs on subsets of the
proprietary JFT-300M, not in the release; the book shows a synthetic analogue), and
``not compared`` for the appendix sections A.1 and A.2, whose numbers we could not obtain (the
book runs the experiments without a paper value to compare with).

Every line also carries a key number pair (``key``: what is compared; ``ours`` and
``paper_value``: the two values as text, rounded as the paper prints them), the main cause of the
judged rows that do not agree (the most frequent ledger cause kind among them, ties broken in the
order of :data:`scaling.ledger.CAUSE_KINDS`; a variant cause names its variant), and the book
sections that show it (``sections``: MyST targets ``chapter.md#anchor``; :func:`heading_anchor`
turns a chapter heading into the anchor Sphinx gives it).

Public API
----------
``ITEMS``                           the paper's items, in the paper's order (:class:`PaperItem`)
``STATUSES``, ``KINDS``             the status vocabulary and the three kinds of judgement
``status_from_rows(statuses)``      the rule for ``rows`` items
``scorecard(ledger, released)``     the scorecard frame, one line per item
``heading_anchor(text)``            the HTML id Sphinx gives a section heading
``variant_effects(tidy)``           per protocol variant: items it moves, gains and loses
``LedgerRun``, ``run_ledger()``     the ledger, the variant sweep and the released fits, computed
                                    once per version of the code (:mod:`scaling.cache`)
``book_scorecard()``                ``scorecard`` of ``run_ledger()``: what the book's intro shows

The full ledger (every producer, the protocol-variant sweep) takes 40-60 s. The intro and the
summary of the book both open with the scorecard, and each chapter runs in its own kernel, so
:func:`run_ledger` is a result of :mod:`scaling.cache`: computed once per version of the package and
the data, and read back from disk afterwards (``SCALING_RESULTS_CACHE=0`` or ``cache=False`` recomputes).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..cache import cached, source_key
from ..ledger.core import CAUSE_KINDS, GOOD_STATUSES, cause_kind

__all__ = [
    "CAUSE_MEANING", "CAUSE_TEXT", "ITEMS", "KINDS", "LedgerRun", "PaperItem", "STATUSES", "TABLE1_MODELS",
    "book_scorecard", "heading_anchor", "run_ledger", "scorecard", "status_from_rows",
    "variant_effects",
]

#: The status vocabulary, best first (see the module docstring for the rules).
STATUSES = ("reproduced", "within error", "close", "differs",
            "cannot be reproduced from the released data", "not compared")
#: How an item is judged: from its ledger rows, from one stated check, or not at all.
KINDS = ("rows", "claim", "fixed")
#: The six architectures of the paper's Table 1 (reference data, as printed).
TABLE1_MODELS = ("BiT/50/1", "BiT/101/3", "ViT/S/16", "ViT/B/16", "MiX/B/16", "MiX/L/16")
#: The two curves of Figure 5 (ImageNet 10-shot).
FIGURE5_MODELS = ("ViT/B/16", "MiX/L/16")
#: The model families of Figures 6 and 7: (smaller, larger).
FAMILIES = {"BiT": ("BiT/50/1", "BiT/101/3"), "ViT": ("ViT/S/16", "ViT/B/16"), "MiX": ("MiX/B/16", "MiX/L/16")}
#: The five language models, smallest first.
LM_SIZES = ("1.68e+07", "1.34e+08", "2.62e+08", "4.53e+08", "1.07e+09")

#: Short readable names of the ledger's cause kinds (for the book's view).
CAUSE_TEXT = {
    "paper-repeats-row": "the paper repeats a row",
    "variant": "a protocol variant",
    "rounding/reading": "reading accuracy of the figure",
    "se-formula": "the paper's ± formula",
    "unreleased-data": "data not released",
    "unexplained": "unexplained",
    "not-computed": "not computed",
}

#: What each cause kind of the ledger means, in a sentence (for the book's table of causes).
CAUSE_MEANING = {
    "paper-repeats-row": "the paper prints another row's values in this row, and ours match that other row",
    "variant": "a protocol choice the paper leaves open (a variant of scaling.studies.variants) gives the paper's number",
    "rounding/reading": "a value read off the paper's graphics, which ours matches within the reading accuracy",
    "se-formula": "a ± whose RMSE we reproduce, while no variant gives the ±: the paper's formula is not the released one",
    "unreleased-data": "computed on our simulation of data the paper does not release",
    "unexplained": "none of the above; the ledger names the closest variant and its distance",
    "not-computed": "no value computed",
}


# --------------------------------------------------------------------------------------------
# The items of the paper
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Key:
    """A key number pair: what is compared, ours and the paper's value (as text); for a ``claim``
    item also the two raw answers, which decide its status."""

    label: str
    ours: str
    paper: str
    ours_value: object = None
    paper_value: object = None


@dataclass(frozen=True)
class PaperItem:
    """One table, figure or appendix section of the paper, and how the scorecard judges it.

    ``links`` are ``(chapter, heading)`` pairs, ``chapter`` a page of the book (``book/<chapter>.md``)
    and ``heading`` the text of one of its headings (``""``: the top of the page). ``sources`` are
    the ledger sources whose rows belong to the item, ``judged`` (for ``rows`` items) picks the rows
    that decide the status among them (default: all), ``key(ledger, released)`` gives the key pair,
    ``basis`` (for ``claim`` items) the ledger rows the check is computed from (for its cause).
    """

    name: str
    shows: str
    kind: str
    links: tuple
    sources: tuple = ()
    judged: Callable | None = None
    key: Callable | None = None
    basis: Callable | None = None
    status: str | None = None
    cause: str = ""
    note: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: unknown kind {self.kind!r}; choose from {KINDS}")
        if (self.kind == "fixed") != (self.status is not None):
            raise ValueError(f"{self.name}: a fixed item needs a status, the others must not have one")
        if self.status is not None and self.status not in STATUSES:
            raise ValueError(f"{self.name}: status {self.status!r} is not in {STATUSES}")


def _rows(ledger: pd.DataFrame, mask: Callable | None, sources: Sequence[str]) -> pd.DataFrame:
    part = ledger[ledger["source"].isin(sources)]
    return part if mask is None else part[mask(part)]


def _item_row(ledger: pd.DataFrame, item: str) -> pd.Series:
    hit = ledger[ledger["item"] == item]
    if len(hit) != 1:
        raise ValueError(f"the ledger has no row {item!r}; build it with every source")
    return hit.iloc[0]


def _num(value: float, digits: int = 2) -> str:
    return "–" if value is None or not np.isfinite(value) else f"{value:.{digits}f}".replace("-", "−")


def _of(k: int, n: int) -> str:
    return f"{k} of {n}"


def _rmse_rows(ledger, source):
    return ledger[(ledger["source"] == source) & (ledger["quantity"] == "rmse")]


def _row_name(frame: pd.DataFrame) -> pd.Series:
    return frame["task"].where(frame["domain"] == "BB", frame["model"]).astype(str)


def _printed(frame: pd.DataFrame, col: str) -> pd.Series:
    """``col`` rounded to the paper's printed unit of each row (column ``precision``)."""
    unit = frame["precision"].astype(float)
    return (frame[col].astype(float) / unit).round() * unit


def _m4_lowest(ledger, source):
    """Rows of a table where M4 has the lowest RMSE, ours and the paper's, both compared as the
    paper prints them (each value rounded to its printed unit; a tie for the lowest counts)."""
    part = _rmse_rows(ledger, source).assign(row=lambda t: t["domain"] + "/" + _row_name(t))
    counts = {}
    for col in ("ours", "paper"):
        wide = part.assign(v=_printed(part, col)).pivot(index="row", columns="law", values="v")
        counts[col] = int((wide["M4"] <= wide.min(axis=1) * (1 + 1e-9)).sum())
    n = part["row"].nunique()
    return Key("rows where M4 is best", _of(counts["ours"], n), _of(counts["paper"], n))


def _value_key(item: str, label: str, digits: int = 2):
    def key(ledger, released):
        row = _item_row(ledger, item)
        return Key(label, _num(row["ours"], digits), _num(row["paper"], digits))
    return key


def _larger_steeper(ledger, shots):
    """Family x shot pairs where the larger model has the more negative M4 exponent (Figure 6)."""
    part = ledger[(ledger["source"] == "Figure 6") & (ledger["law"] == "M4")
                  & ledger["task"].isin([f"inet_{s}" for s in shots])]
    counts = {}
    for col in ("ours", "paper"):
        c = part.set_index(["model", "task"])[col]
        counts[col] = sum(int(c[(large, f"inet_{s}")] < c[(small, f"inet_{s}")])
                          for small, large in FAMILIES.values() for s in shots)
    return counts["ours"], counts["paper"], len(FAMILIES) * len(shots)


def _figure6_key(ledger, released):
    ours, paper, n = _larger_steeper(ledger, (5, 10, 25))
    return Key("larger model, steeper M4 exponent", _of(ours, n), _of(paper, n),
               ours, paper)


def _figure7_key(ledger, released):
    ours, paper, n = _larger_steeper(ledger, (10,))
    return Key("families, larger model steeper", _of(ours, n), _of(paper, n), ours, paper)


def _figure7_basis(frame):
    return (frame["law"] == "M4") & (frame["task"] == "inet_10")


def _figure8_key(ledger, released):
    part = _rmse_rows(ledger, "Table 2")
    part = part[part["domain"] == "LM"]
    counts = {}
    for col in ("ours", "paper"):
        wide = part.assign(v=_printed(part, col)).pivot(index="model", columns="law", values="v")
        counts[col] = int((wide["M1"] >= wide.max(axis=1) * (1 - 1e-9)).sum())
    n = len(LM_SIZES)
    return Key("sizes where M1 extrapolates worst", _of(counts["ours"], n), _of(counts["paper"], n),
               counts["ours"], counts["paper"])


def _figure8_basis(frame):
    return (frame["domain"] == "LM") & (frame["quantity"] == "rmse")


def _figure9_key(ledger, released):
    row = _item_row(ledger, f"Figure9/M4/{LM_SIZES[-1]}/c")
    return Key("M4 exponent of the largest model", _num(row["ours"]), _num(row["paper"]))


def _ic_released(released: pd.DataFrame) -> pd.DataFrame:
    if released is None:
        raise ValueError("Table 1 and Figure 5 need the released fits: pass released= "
                         "(e.g. run_ledger().released)")
    missing = {"domain", "task", "model", "law", "rmse"} - set(released.columns)
    if missing:
        raise ValueError(f"released fits lack column(s) {sorted(missing)}")
    return released[released["domain"] == "IC"]


def _table1_key(ledger, released):
    present = set(_ic_released(released)["model"].astype(str))
    ours = sum(m in present for m in TABLE1_MODELS)
    n = len(TABLE1_MODELS)
    return Key("architectures in the data", _of(ours, n), _of(n, n), ours, n)


def _figure5_key(ledger, released):
    from ..evaluate import truncate_rmse

    ic = _ic_released(released)
    ours = 0
    for model in FIGURE5_MODELS:
        rmse = ic[(ic["task"] == "inet_10") & (ic["model"] == model)].set_index("law")["rmse"]
        if rmse.empty:  # a panel without data is not one M4 wins
            continue
        t = truncate_rmse(rmse.fillna(1.0), 3)  # the notebook's comparison; a failed fit scores 1
        ours += int(t.get("M4", np.inf) <= t.min())
    n = len(FIGURE5_MODELS)
    return Key("panels where M4 extrapolates best", _of(ours, n), _of(n, n), ours, n)


def _not_se(frame):
    return frame["quantity"] != "se"


def _ic_m4_bar(frame):
    return frame["item"] == "IC/M4/win_fraction"


_SUMMARY_BARS = ("summary", "Figure 1 (bottom): who wins where")

#: The paper's items, in its order, and how each is judged (see the module docstring).
ITEMS: tuple[PaperItem, ...] = (
    PaperItem("Table 1", "the six image-classification architectures", "claim",
              (("benchmark", "Table 1: the image-classification architectures"),), key=_table1_key,
              note="the parameter counts come from the authors' README; the data hold the model names"),
    PaperItem("Table 2", "extrapolation RMSE, translation and language models", "rows",
              (("translation", "Table 2 (top): the paper's method beside the paper"),
               ("language_modelling", "Table 2 (bottom): the paper's method beside the paper")),
              sources=("Table 2",), judged=_not_se, key=lambda l, r: _m4_lowest(l, "Table 2")),
    PaperItem("Table 3", "extrapolation RMSE, BIG-Bench", "rows",
              (("bigbench", "Table 3: the paper's method beside the paper"),),
              sources=("Table 3",), judged=_not_se, key=lambda l, r: _m4_lowest(l, "Table 3")),
    PaperItem("Figure 1", "how often each law extrapolates best", "rows",
              (_SUMMARY_BARS, ("image_classification", "Figure 1 (top): one curve, four laws")),
              sources=("Figure 1",), key=_value_key("IC/M4/win_fraction", "share of IC curves M4 wins")),
    PaperItem("Figure 2", "exponents on a synthetic learning curve", "rows",
              (("synthetic", "The four laws at three cutoffs (Figure 2)"),),
              sources=("Figure 2",), key=_value_key("Figure2/cutoff=0/M4/c", "M4 exponent, cutoff 0")),
    PaperItem("Figure 3", "the best-fitting vs the best-extrapolating exponent", "rows",
              (("extrapolation", "Fixing the exponent"),),
              sources=("Figure 3",),
              key=_value_key("Figure3/extrapolation/argmin_c_text", "exponent that extrapolates best")),
    PaperItem("Figure 4", "examples seen before the peak act like fresh ones", "fixed",
              (("bootstrapped", "What the analogue shows, and what it does not"),),
              status="cannot be reproduced from the released data", cause="unreleased-data",
              note="proprietary JFT-300M runs; the book shows a synthetic analogue"),
    PaperItem("Figure 5", "ViT/B/16 and MiX/L/16 fits, ImageNet 10-shot", "claim",
              (("image_classification", "Figure 5: ViT/B/16 and MiX/L/16"),), key=_figure5_key),
    PaperItem("Figure 6", "exponents against architecture, ImageNet", "rows",
              (("image_classification", "Exponents and architecture (Figure 6)"),),
              sources=("Figure 6",), key=_figure6_key),
    PaperItem("Figure 7", "excess risk of small and large models", "claim",
              (("image_classification", "Excess risk (Figure 7)"),),
              sources=("Figure 6",), basis=_figure7_basis, key=_figure7_key),
    PaperItem("Figure 8", "language-model fits", "claim",
              (("language_modelling", "Figure 8: the fits"),),
              sources=("Table 2",), basis=_figure8_basis, key=_figure8_key),
    PaperItem("Figure 9", "exponents against language-model size", "rows",
              (("language_modelling", "Figure 9: the exponent against model size"),),
              sources=("Figure 9",), key=_figure9_key),
    PaperItem("Appendix A.1", "fixed vs learned α in M4", "fixed",
              (("appendix_alpha", ""),), status="not compared",
              note="appendix numbers not available to us; the book runs the ablation"),
    PaperItem("Appendix A.2", "the noisy BIG-Bench curves", "fixed",
              (("bigbench", "How noisy, compared with the other domains"),), status="not compared",
              note="appendix figure not available to us; the book measures the noise"),
    PaperItem("Appendix A.3", "all 72 image-classification fits", "rows",
              (("appendix_ic_panels", ""),), sources=("Figure 1",), judged=_ic_m4_bar,
              key=_value_key("IC/M4/win_fraction", "share of the 72 panels M4 wins"),
              note="judged on the one number the main text gives about them: M4's share of wins"),
)


# --------------------------------------------------------------------------------------------
# The rule and the card
# --------------------------------------------------------------------------------------------

def status_from_rows(statuses: Sequence[str]) -> str:
    """The status of a ``rows`` item from its judged rows' ledger statuses (module docstring).

    >>> status_from_rows(["reproduced", "within-error", "differs"])
    'close'
    """
    statuses = list(statuses)
    n = len(statuses)
    if n == 0:
        raise ValueError("no ledger rows to judge")
    if "not-yet" in statuses:
        raise ValueError("the ledger has rows that were not computed (status 'not-yet'); "
                         "build it with compute=True and every producer available")
    unknown = sorted(set(statuses) - set(GOOD_STATUSES) - {"differs"})
    if unknown:
        raise ValueError(f"unknown ledger status(es) {unknown}")
    good = sum(s in GOOD_STATUSES for s in statuses)
    if all(s == "reproduced" for s in statuses):
        return "reproduced"
    if good == n:
        return "within error"
    return "close" if 2 * good > n else "differs"


def _main_cause(rows: pd.DataFrame) -> tuple[str, str]:
    """``(kind, text)`` of the most frequent cause among ``rows`` that do not agree ("" if none)."""
    bad = rows[~rows["status"].isin(GOOD_STATUSES)]
    if bad.empty:
        return "", ""
    kinds = bad["cause"].map(cause_kind)
    if kinds.isna().any():
        raise ValueError("ledger rows that disagree need a cause; build the ledger with build_ledger()")
    counts = kinds.value_counts()
    best = max(counts.index, key=lambda k: (counts[k], -CAUSE_KINDS.index(k)))
    text = CAUSE_TEXT[best]
    if best == "variant":
        names = bad.loc[kinds == "variant", "cause"].str.partition(":")[2].value_counts()
        text = f"variant “{names.index[0]}”"
    return best, text


def _section(chapter: str, heading: str) -> str:
    return f"{chapter}.md" + (f"#{heading_anchor(heading)}" if heading else "")


def scorecard(ledger: pd.DataFrame, released: pd.DataFrame | None = None,
              items: Sequence[PaperItem] = ITEMS) -> pd.DataFrame:
    """One line per item of the paper (default :data:`ITEMS`), judged from the ``ledger``.

    ``ledger`` is a full ledger (:func:`scaling.ledger.build_ledger`: every source computed, with
    causes); ``released`` the released emulation's fits, one row per (curve, law) with at least
    ``domain, task, model, law, rmse`` (:func:`scaling.studies.variants.variant_results`), needed for
    Table 1 and Figure 5.

    Returns a frame indexed by ``item`` (``"Table 1"``, ..., ``"Appendix A.3"``) with columns
    ``shows, kind, status`` (one of :data:`STATUSES`), ``n_rows, n_reproduced, n_within_error,
    n_differs`` (the judged ledger rows), ``n_pm_rows, n_pm_agree`` (the "±" cells, counted but
    not judged), ``key, ours, paper_value`` (the key number pair, as text), ``main_cause`` (a
    kind of :data:`scaling.ledger.CAUSE_KINDS` or ""), ``cause`` (readable), ``note`` and
    ``sections`` (MyST targets ``chapter.md#anchor``; the first is the main one).
    """
    required = {"source", "item", "status", "cause", "paper", "ours", "precision", "quantity", "law", "domain",
                "task", "model"}
    missing = required - set(ledger.columns)
    if missing:
        raise ValueError(f"the ledger lacks column(s) {sorted(missing)}")
    lines = []
    for it in items:
        line = dict(item=it.name, shows=it.shows, kind=it.kind, n_rows=0, n_reproduced=0,
                    n_within_error=0, n_differs=0, n_pm_rows=0, n_pm_agree=0, key="", ours="",
                    paper_value="", main_cause="", cause="", note=it.note,
                    sections=tuple(_section(c, h) for c, h in it.links))
        if it.kind == "fixed":
            line.update(status=it.status, main_cause=it.cause, cause=CAUSE_TEXT.get(it.cause, ""))
            lines.append(line)
            continue
        rows = _rows(ledger, None, it.sources)
        if it.sources and rows.empty:
            raise ValueError(f"{it.name}: the ledger has no rows of {list(it.sources)}")
        key = it.key(ledger, released)
        line.update(key=key.label, ours=key.ours, paper_value=key.paper)
        if it.kind == "rows":
            judged = rows if it.judged is None else rows[it.judged(rows)]
            pm = rows.drop(judged.index)
            pm = pm[pm["quantity"] == "se"]
            status = status_from_rows(judged["status"])
            line.update(status=status, n_rows=len(judged),
                        n_reproduced=int((judged["status"] == "reproduced").sum()),
                        n_within_error=int((judged["status"] == "within-error").sum()),
                        n_differs=int((judged["status"] == "differs").sum()),
                        n_pm_rows=len(pm), n_pm_agree=int(pm["status"].isin(GOOD_STATUSES).sum()))
            kind, text = _main_cause(judged)
        else:  # claim
            status = "reproduced" if key.ours_value == key.paper_value else "differs"
            line["status"] = status
            kind, text = "", ""
            if status != "reproduced":
                basis = rows[it.basis(rows)] if it.basis is not None else rows.iloc[:0]
                kind, text = _main_cause(basis) if len(basis) else ("unexplained", CAUSE_TEXT["unexplained"])
        line.update(main_cause=kind, cause=text)
        lines.append(line)
    card = pd.DataFrame(lines).set_index("item")
    cols = ["shows", "kind", "status", "n_rows", "n_reproduced", "n_within_error", "n_differs", "n_pm_rows",
            "n_pm_agree", "key", "ours", "paper_value", "main_cause", "cause", "note", "sections"]
    return card[cols]


# --------------------------------------------------------------------------------------------
# Anchors (the book's view of the scorecard is scaling.studies.scorecard_plots.style_scorecard)
# --------------------------------------------------------------------------------------------

_MARKUP = re.compile(r"[$`*]")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def heading_anchor(text: str) -> str:
    """The HTML id Sphinx (docutils) gives a section with this MyST heading, e.g.
    ``"Table 2 (top): the paper's method beside the paper"`` ->
    ``"table-2-top-the-paper-s-method-beside-the-paper"``.

    Inline markup is dropped first (``$``, backticks, ``*``, link targets), as in the rendered
    title; then docutils' ``make_id``: lower case, ASCII, every run of other characters a hyphen,
    no leading digits or hyphens. (A heading repeated within one page gets ``id1``, ``id2`` ... from
    its second occurrence on; link to the first.)
    """
    text = _MARKUP.sub("", _LINK.sub(r"\1", text))
    text = " ".join(text.split()).lower()
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^a-z0-9]+", "-", text)
    return re.sub(r"^[-0-9]+|-+$", "", text)


def variant_effects(tidy: pd.DataFrame) -> pd.DataFrame:
    """What each protocol variant of a sweep (:func:`scaling.studies.variants.sweep`) does to the ledger's
    items, against the baseline (the released notebook): ``changed`` (items whose value or error
    moves), ``agree`` (items reproduced or within error under the variant), ``gained`` and ``lost``
    (items that agree under the variant but not under the baseline, and the reverse). One row per
    variant, in the sweep's order."""
    from ..ledger.variants import BASELINE

    status = tidy.pivot(index="item", columns="variant", values="status")
    if BASELINE not in status.columns:
        raise ValueError(f"the sweep lacks the baseline variant {BASELINE!r}")
    changed = tidy.assign(c=tidy["changed"].astype(bool) & (tidy["variant"] != BASELINE))
    changed = changed.groupby("variant", sort=False)["c"].sum()
    base = status[BASELINE].isin(GOOD_STATUSES)
    rows = []
    for name in dict.fromkeys(tidy["variant"]):
        good = status[name].isin(GOOD_STATUSES)
        rows.append(dict(variant=name, changed=int(changed[name]), agree=int(good.sum()),
                         gained=int((good & ~base).sum()), lost=int((~good & base).sum())))
    return pd.DataFrame(rows).set_index("variant")


# --------------------------------------------------------------------------------------------
# Computing the ledger once, for every chapter
# --------------------------------------------------------------------------------------------

@dataclass
class LedgerRun:
    """What :func:`run_ledger` computes: the ledger (with causes), the variant sweep
    (:func:`scaling.studies.variants.sweep`), the released emulation's fits on the whole benchmark
    (:func:`scaling.studies.variants.variant_results` of the baseline) and the cache key."""

    ledger: pd.DataFrame
    sweep: pd.DataFrame
    released: pd.DataFrame
    key: str = ""


def _compute(progress: bool) -> LedgerRun:
    from ..ledger.core import BENCHMARK_SOURCES, build_ledger
    from ..ledger.variants import BASELINE, sweep, variant_results

    ledger = build_ledger(variants=True, progress=progress)
    tidy = sweep(sources=BENCHMARK_SOURCES)            # the fits are cached: no refitting
    released = variant_results(BASELINE)
    return LedgerRun(ledger, tidy, released)


def run_ledger(*, cache: bool | None = None, progress: bool = False) -> LedgerRun:
    """The full ledger (released emulation and global fits, with causes), the variant sweep and the
    released fits, computed once per version of the code and data (:func:`scaling.cache.cached`).

    ``cache=None`` follows ``$SCALING_RESULTS_CACHE`` (on unless "0", "false", "no" or "off").
    """
    run = cached("ledger", lambda: _compute(progress), enabled=cache)
    run.key = source_key()
    return run


def book_scorecard(run: LedgerRun | None = None) -> pd.DataFrame:
    """:func:`scorecard` of :func:`run_ledger` (the book's intro and summary)."""
    run = run_ledger() if run is None else run
    return scorecard(run.ledger, run.released)
