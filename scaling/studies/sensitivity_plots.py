"""Figures of the sensitivity chapter: median RMSE against the fraction of the curve fitted, and the
spread of the extrapolation RMSE over optimiser starts."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

from ..report import plotting
from ..evaluate import DOMAIN_ORDER

__all__ = ["law_colors", "plot_fraction_medians", "plot_start_ratios"]

_CB = sns.color_palette("colorblind")
# Laws without a colour in plotting.LAW_COLORS (laws registered later than the book's six).
_SPARE = (_CB[9], _CB[6], "black")
# How the fits of a start study that are not random starts are marked (kind -> scatter style).
_MARKED_KINDS = {
    "released": dict(marker="x", color="black", linewidths=1.0, label="released start"),
    "sound": dict(marker="D", facecolors="none", edgecolors="black", linewidths=0.9, label="fit on log loss"),
    "released_code": dict(marker="+", color="0.35", linewidths=1.0, label="released code"),
}


def law_colors(laws: Sequence[str]) -> dict:
    """A colour per law: the book's (plotting.LAW_COLORS), spares after that."""
    spare = iter(_SPARE * (1 + len(laws)))
    return {name: plotting.LAW_COLORS.get(name) or next(spare) for name in laws}


def _log_y(ax) -> None:
    """Log y axis labelled at 1, 2 and 5 times powers of ten, without minor ticks (the book's style)."""
    ax.set_yscale("log")
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))


def _domains(frame) -> list[str]:
    present = list(dict.fromkeys(frame["domain"]))
    return [d for d in DOMAIN_ORDER if d in present] + [d for d in present if d not in DOMAIN_ORDER]


def plot_fraction_medians(medians: pd.DataFrame, *, ncols: int = 2, panel_size=(4.6, 3.2)):
    """One panel per domain: the median extrapolation RMSE (log scale) against the fraction of the
    fitting part used, one line per law with its bootstrap interval as error bars (laws dodged
    sideways so that the bars stay readable).  Under each fraction: the number of curves on which
    every law could be fitted; a fraction where there are none has no points.

    ``medians`` is the output of :func:`scaling.studies.sensitivity.median_rmse`.
    """
    missing = {"domain", "fraction", "law", "n_curves", "median", "lo", "hi"} - set(medians.columns)
    if missing:
        raise ValueError(f"medians lacks column(s) {sorted(missing)}; pass the output of median_rmse().")
    domains = _domains(medians)
    laws = list(dict.fromkeys(medians["law"]))
    colors = law_colors(laws)
    fractions = sorted(medians["fraction"].unique())
    pos = {f: i for i, f in enumerate(fractions)}
    dodge = np.linspace(-0.24, 0.24, len(laws)) if len(laws) > 1 else np.zeros(1)
    n = len(domains)
    fig, axes = plt.subplots(int(np.ceil(n / ncols)), min(ncols, n), squeeze=False, layout="constrained",
                             figsize=(panel_size[0] * min(ncols, n), panel_size[1] * int(np.ceil(n / ncols))))
    flat = axes.ravel()
    for ax in flat[n:]:
        ax.set_visible(False)
    for i, (ax, domain) in enumerate(zip(flat, domains)):
        block = medians[medians.domain == domain]
        for k, law in enumerate(laws):
            rows = block[(block.law == law) & block["median"].notna()].sort_values("fraction")
            if rows.empty:
                continue
            x = rows["fraction"].map(pos).to_numpy(float) + dodge[k]
            med = rows["median"].to_numpy(float)
            err = np.vstack([med - rows["lo"].to_numpy(float), rows["hi"].to_numpy(float) - med])
            ax.errorbar(x, med, yerr=np.clip(err, 0, None), color=colors[law], marker="o", ms=4, lw=1.4,
                        capsize=2, elinewidth=1, label=law)
        counts = block.groupby("fraction")["n_curves"].first()
        ax.set_xticks(range(len(fractions)))
        ax.set_xticklabels([f"{f:.0%}\nn={int(counts.get(f, 0))}" for f in fractions], fontsize="small")
        ax.set_xlim(-0.5, len(fractions) - 0.5)
        _log_y(ax)
        ax.set_title(domain)
        if i % ncols == 0:
            ax.set_ylabel("median extrapolation RMSE")
        if i >= n - ncols:
            ax.set_xlabel("fraction of the fitting part used")
    handles, labels = [], []
    for ax in flat[:n]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="outside upper center", ncol=len(labels), frameon=False, fontsize="small")
    return fig


def plot_start_ratios(starts: pd.DataFrame, *, ncols: int = 2, panel_size=(4.6, 3.2), seed: int = 0,
                      floor: float = 1e-2):
    """One panel per domain: for every successful random start, its extrapolation RMSE divided by the
    global fit's on the same curve (log scale; 1 = same answer), one jittered column per law.
    The released start (M2, M4) is a black cross; the fits of other estimators in the study (kind
    "sound", "released_code") are an open diamond and a plus.  Ratios below ``floor`` are drawn
    at ``floor``.

    ``starts`` is the output of :func:`scaling.studies.sensitivity.start_study`.
    """
    missing = {"domain", "task", "model", "law", "kind", "rmse", "error"} - set(starts.columns)
    if missing:
        raise ValueError(f"starts lacks column(s) {sorted(missing)}; pass the output of start_study().")
    keys = ["domain", "task", "model", "law"]
    glob = starts[starts.kind == "global"].set_index(keys)["rmse"].rename("global_rmse")
    ok = starts[(starts.kind != "global") & starts.error.eq("")].join(glob, on=keys)
    ok = ok[ok.global_rmse > 0]
    ratio = np.maximum(ok["rmse"] / ok["global_rmse"], floor)
    laws = list(dict.fromkeys(starts["law"]))
    colors = law_colors(laws)
    domains = _domains(starts)
    rng = np.random.default_rng(seed)
    n = len(domains)
    fig, axes = plt.subplots(int(np.ceil(n / ncols)), min(ncols, n), squeeze=False, layout="constrained",
                             sharey=True,
                             figsize=(panel_size[0] * min(ncols, n), panel_size[1] * int(np.ceil(n / ncols))))
    flat = axes.ravel()
    for ax in flat[n:]:
        ax.set_visible(False)
    for i, (ax, domain) in enumerate(zip(flat, domains)):
        for k, law in enumerate(laws):
            sel = (ok.domain == domain) & (ok.law == law)
            rand = sel & (ok.kind == "random")
            ax.scatter(k + rng.uniform(-0.28, 0.28, rand.sum()), ratio[rand], s=9, alpha=0.55,
                       color=colors[law], linewidths=0)
            for kind, style in _MARKED_KINDS.items():
                mark = sel & (ok.kind == kind)
                if mark.any():
                    ax.scatter(k + rng.uniform(-0.1, 0.1, mark.sum()), ratio[mark], s=22, zorder=3, **style)
        ax.axhline(1.0, color="0.3", lw=0.8, ls="--")
        _log_y(ax)
        ax.set_xticks(range(len(laws)))
        ax.set_xticklabels(laws, fontsize="small")
        ax.set_title(domain)
        if i % ncols == 0:
            ax.set_ylabel("RMSE ratio, start / global")
    legend = {}
    for ax in flat[:n]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(lab, h)
    if legend:
        fig.legend(list(legend.values()), list(legend), loc="outside upper center", ncol=len(legend),
                   frameon=False, fontsize="small")
    return fig
