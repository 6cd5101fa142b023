"""Figures of the performance chapter (computation: :mod:`scaling.studies.performance`): time per
fit against the emulation's rounds, against the number of fitted points, and every timed fit.

Built on :mod:`scaling.report.plotting` (same palette and law colours).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..laws.paper import LAWS
from ..report.plotting import LAW_COLORS, page_width
from .performance import METHODS, TIMING_KEY, WALK_LAWS, check_timings, compare_methods, format_ratio

__all__ = ["METHOD_STYLE", "plot_time_vs_rounds", "plot_time_vs_points", "plot_fit_times"]

#: Colour and marker of each timed method.
METHOD_STYLE = {"released": dict(color="0.25", marker="o"), "emulation": dict(color="#0072B2", marker="o"),
                "literal": dict(color="#E69F00", marker="D"), "global": dict(color="#009E73", marker="s")}


def _law_colors() -> dict:
    colors = dict(LAW_COLORS)
    extra = ["C7", "C8", "C9", "C3"]
    for law in LAWS:
        colors.setdefault(law, extra[len(colors) % len(extra)])
    return colors


def plot_time_vs_rounds(timings: pd.DataFrame, laws: Sequence[str] = WALK_LAWS, axes=None):
    """Milliseconds per fit against the emulation's rounds (log-log), and the per-fit speed-up.

    ``timings`` concatenates timing frames; it must hold method ``"emulation"`` (whose ``n_iter``
    places every fit on the x axis) and may hold ``"released"`` and ``"literal"`` (placed at its
    own rounds); other methods (the global fits run no rounds) are left out. Left: every fit of
    ``laws`` (M2 circles, M4 squares). Right:
    ``released / emulation`` per fit, with each law's median as a line. Returns the Figure.
    """
    check_timings(timings)
    data = timings.dropna(subset=["seconds"])
    emu = data[(data["method"] == "emulation") & data["law"].isin(laws)]
    if emu.empty:
        raise ValueError("timings must hold the emulation's fits (method 'emulation') of the laws plotted.")
    rounds = emu.set_index(TIMING_KEY)["n_iter"]
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(8.6, 3.9))
    axes = np.atleast_1d(axes)
    fig = axes[0].figure
    markers = {"M2": "o", "M4": "s"}
    ax = axes[0]
    for method in [m for m in ("released", "emulation", "literal") if m in set(data["method"])]:
        g = data[(data["method"] == method) & data["law"].isin(laws)]
        for law in laws:
            h = g[g["law"] == law]
            if h.empty:
                continue
            x = h["n_iter"] if method == "literal" else rounds.reindex(pd.MultiIndex.from_frame(h[TIMING_KEY])).to_numpy()
            ax.scatter(x, 1e3 * h["seconds"], s=14, alpha=0.6, marker=markers.get(law, "o"),
                       color=METHOD_STYLE[method]["color"], label=f"{method} {law}", edgecolors="none")
    ax.set(xscale="log", yscale="log", xlabel="rounds (emulation, Taylor walk)",
           ylabel="milliseconds per fit", title="time per fit against rounds")
    ax.legend(fontsize="x-small", ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.26))
    ax = axes[1] if axes.size > 1 else None
    if ax is not None and "released" in set(data["method"]):
        cmp = compare_methods(data[data["method"] == "released"], data[data["method"] == "emulation"])
        colors = _law_colors()
        for law in laws:
            h = cmp[cmp["law"] == law]
            if h.empty:
                continue
            ax.scatter(h["n_iter"], h["ratio"], s=14, alpha=0.6, marker=markers.get(law, "o"), color=colors[law],
                       label=f"{law} (median {format_ratio(h['ratio'].median())})", edgecolors="none")
            ax.axhline(h["ratio"].median(), color=colors[law], lw=1, ls="--")
        ax.set(xscale="log", yscale="log", xlabel="rounds (emulation, Taylor walk)",
               ylabel="released / emulation", title="speed-up per fit")
        ax.legend(fontsize="x-small", ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.26))
    fig.tight_layout()
    return fig


def plot_time_vs_points(growth: pd.DataFrame, predictions: pd.DataFrame | None = None, axes=None):
    """Log-log panels of seconds against n: global fits, emulation rounds, M4 predictions.

    Returns the matplotlib Figure. The Taylor walk is drawn solid, the literal walk dashed.
    """
    needed = {"n", "law", "method", "unit", "seconds"}
    if not isinstance(growth, pd.DataFrame) or needed - set(growth.columns):
        raise ValueError("growth must be the DataFrame of time_vs_points().")
    # two-line titles: three panels side by side leave each about 2.3 inches
    panels = [(("global",), "global fit:\none complete fit", "seconds per fit"),
              (("emulation", "literal"), "emulation: one round\n(M1: the whole fit)", "seconds per round")]
    panels = [p for p in panels if growth["method"].isin(p[0]).any()]
    n_panels = len(panels) + (predictions is not None)
    if axes is None:
        # at most the page's width: shown at its own size, so panels and text stay readable
        fig, axes = plt.subplots(1, n_panels, figsize=(min(2.9 * n_panels, page_width()), 3.9),
                                 sharex=True)
    axes = np.atleast_1d(axes)
    fig = axes[0].figure
    colors = _law_colors()
    for ax, (methods, title, ylabel) in zip(axes, panels):
        for method in methods:
            g = growth[growth["method"] == method]
            for law, h in g.groupby("law", sort=False):
                h = h.sort_values("n")
                spread = [h["seconds"] - h["seconds_min"], h["seconds_max"] - h["seconds"]]
                ax.errorbar(h["n"], h["seconds"], yerr=spread, marker="o", ms=4, capsize=2,
                            ls="--" if method == "literal" else "-", color=colors.get(law),
                            label=f"{law} literal" if method == "literal" else law)
        ax.set(xscale="log", yscale="log", title=title, xlabel="fitted points n", ylabel=ylabel)
        ax.legend(fontsize="x-small", ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.3))
    if predictions is not None:
        ax = axes[len(panels)]
        for method, h in predictions.groupby("method", sort=False):
            h = h.sort_values("n")
            ax.plot(h["n"], h["seconds"], marker="o", ms=4, ls="-" if method == "global" else "--",
                    color=colors["M4"] if method == "global" else "0.3",
                    label="global (root finding)" if method == "global" else "released grid (10,000 points)")
        ax.set(xscale="log", yscale="log", title="M4 prediction\nat n points", xlabel="predicted points n",
               ylabel="seconds")
        ax.legend(fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.3))
    fig.tight_layout()
    return fig


def plot_fit_times(timings: pd.DataFrame, ax=None):
    """Every timed fit as a dot: milliseconds per fit (log scale) for each law and method.

    ``timings`` concatenates timing frames of any of :data:`METHODS`. Dots are jittered
    sideways; a black bar marks each group's median. Returns the Axes.
    """
    check_timings(timings)
    data = timings.dropna(subset=["seconds"])
    if data.empty:
        raise ValueError("no successful fit to plot.")
    if ax is None:
        _, ax = plt.subplots(figsize=(8.5, 4.2))
    laws = [k for k in LAWS if k in set(data["law"])] + sorted(set(data["law"]) - set(LAWS))
    methods = [m for m in METHODS if m in set(data["method"])] + sorted(set(data["method"]) - set(METHODS))
    width = 0.8 / len(methods)
    rng = np.random.default_rng(0)  # fixed jitter
    labelled = set()
    for j, method in enumerate(methods):
        for i, law in enumerate(laws):
            ms = 1e3 * data[(data["method"] == method) & (data["law"] == law)]["seconds"].to_numpy()
            if ms.size == 0:
                continue
            centre = i + (j - (len(methods) - 1) / 2) * width
            ax.scatter(centre + rng.uniform(-0.35, 0.35, ms.size) * width, ms, s=9, alpha=0.55,
                       color=METHOD_STYLE.get(method, {}).get("color", "C3"),
                       label=None if method in labelled else method)
            labelled.add(method)
            ax.hlines(np.median(ms), centre - 0.4 * width, centre + 0.4 * width, color="k", lw=2)
    ax.set_xticks(range(len(laws)), laws)
    ax.set(yscale="log", ylabel="milliseconds per fit")
    ax.legend(loc="upper left", fontsize="small", ncol=len(methods))
    return ax
