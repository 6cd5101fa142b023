"""Figures 2, 3 and 4: the chapters "a synthetic learning curve", "extrapolation, not
interpolation" and "bootstrapped examples" (computation: :mod:`scaling.studies.foundations`).

Built on :mod:`scaling.report.plotting` (same style, palette and conventions).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import LogFormatterSciNotation, LogLocator

from ..benchmark.catalogue import PAPER_LAWS
from ..report.plotting import (COLORS, LAW_COLORS, PALETTE, figure_legend, hide_inner_labels, log_axis,
                               new_ax, panel_grid, sequence_colors)

__all__ = [
    "EXPONENT_END_COLORS", "CRITERION_COLORS", "UNUSED_COLOR",
    "plot_excess_risk_fits", "plot_cutoff_panels", "plot_learning_regimes",
    "plot_fixed_exponent_fits", "plot_rmse_against_exponent", "plot_figure3",
    "plot_fixed_exponent_grid", "live_frontend", "exponent_slider",
    "plot_bootstrap_curves", "plot_train_test_gap",
]

#: Exponent colours of the Figure 3 panels: the first and last exponent are coloured, those in
#: between grey (as in the paper, which uses blue and red; red is too close to the orange of the
#: held-out points).
EXPONENT_END_COLORS = (PALETTE[0], PALETTE[4])
#: Colours of the two RMSE criteria of Figure 3.
CRITERION_COLORS = {"interpolation": PALETTE[0], "extrapolation": PALETTE[1]}
#: Colour of points that neither fit a law nor score it.
UNUSED_COLOR = "0.8"


def _positive_or_below(values, floor):
    """Values for a log axis: non-positive values are moved far below ``floor``, so that a line
    that drops to zero or below is drawn diving out of the panel instead of stopping."""
    values = np.asarray(values, dtype=float)
    return np.where(values > 0, values, floor * 1e-6)


def plot_excess_risk_fits(mean, fits, cutoff, ax=None, *, delta: float, x_max: float = 1e7,
                          theory: Callable | None = None, ylim=(1e-3, 0.5),
                          laws: Sequence[str] = PAPER_LAWS, legend: bool = True):
    """One panel of the paper's Figure 2: excess risk of a learning curve and of fitted laws.

    ``mean`` has columns ``n``, ``mean`` (the error rate averaged over seeds) and optionally
    ``min``/``max`` (drawn as a band: the spread over seeds). ``fits`` is the output of
    :func:`scaling.studies.foundations.figure2_fits`; the rows with this ``cutoff`` are drawn, each law's
    excess risk ``prediction - delta`` from the first point to ``x_max``. A law that predicts
    an error below ``delta`` dives out of the bottom of the panel. Points with ``n < cutoff``
    (not fitted) are hollow. ``theory(n)`` (optional) is drawn as a dashed black line.
    """
    ax = new_ax(ax)
    n = mean["n"].to_numpy(float)
    excess = mean["mean"].to_numpy(float) - delta
    used = n >= cutoff
    if {"min", "max"} <= set(mean.columns):
        ax.fill_between(n, _positive_or_below(mean["min"] - delta, ylim[0]),
                        _positive_or_below(mean["max"] - delta, ylim[0]), color=COLORS["fit"],
                        alpha=0.25, lw=0, zorder=1, label="spread over seeds")
    ax.scatter(n[used], excess[used], s=14, color=COLORS["fit"], zorder=3, linewidths=0,
               label="fitted")
    if (~used).any():
        ax.scatter(n[~used], excess[~used], s=14, facecolors="none", edgecolors=COLORS["fit"],
                   zorder=3, linewidths=0.8, label="left out")
    grid = np.geomspace(n.min(), x_max, 400)
    rows = fits[fits["cutoff"] == cutoff].set_index("law")
    drawn = [name for name in laws if name in rows.index]
    for k, name in enumerate(drawn):
        row = rows.loc[name]
        pred = row["fitted"].predict(grid) - delta
        # earlier laws are drawn wider and below, so that two laws that coincide stay visible
        ax.plot(grid, _positive_or_below(pred, ylim[0]), lw=1.6 + 1.2 * (len(drawn) - 1 - k) / 2,
                color=LAW_COLORS.get(name), label=f"{name}, c = {row['c']:.2f}", zorder=2 + k / 10)
    if theory is not None:
        ax.plot(grid, theory(grid), ls="--", lw=1.2, color="black", label="theory, slope -1/2",
                zorder=2.5)
    ax.axvspan(n.max(), x_max, color="0.93", zorder=0, lw=0)
    log_axis(ax, "x")
    log_axis(ax, "y")
    ax.set_ylim(*ylim)
    ax.set_xlim(n.min() / 1.3, x_max)
    ax.set_xlabel("training set size")
    ax.set_ylabel("excess risk (error - Bayes risk)")
    ax.set_title(f"cutoff = {cutoff:,}")
    if legend == "laws":   # only the laws (the figure explains the other marks once)
        handles, labels = ax.get_legend_handles_labels()
        keep = [i for i, lab in enumerate(labels) if lab.split(",")[0] in laws]
        ax.legend([handles[i] for i in keep], [labels[i] for i in keep], loc="lower left",
                  fontsize="small")
    elif legend:
        ax.legend(loc="lower left", fontsize="small")
    return ax


def plot_cutoff_panels(mean, fits, *, delta: float, cutoffs: Sequence[float] | None = None,
                       theory: Callable | None = None, x_max: float = 1e7, ncols: int = 2,
                       panel_size: tuple[float, float] = (4.6, 3.7)):
    """The paper's Figure 2: one :func:`plot_excess_risk_fits` panel per cutoff, shared y axis.

    The panels fill rows of ``ncols`` (two by default, so that a page shows them large enough;
    ``ncols=3`` gives the paper's single row). The marks that all panels share (points, seed
    spread, theory) are explained once, in the first free panel slot or below the figure.
    """
    cutoffs = sorted(fits["cutoff"].unique()) if cutoffs is None else list(cutoffs)
    fig, axes = panel_grid(len(cutoffs), ncols, panel_size, sharey=True)
    spare = [ax for ax in fig.axes if not ax.get_visible()]   # empty slots of the grid
    ncols_used = min(ncols, len(cutoffs))
    for i, (ax, cutoff) in enumerate(zip(axes, cutoffs)):
        plot_excess_risk_fits(mean, fits, cutoff, ax, delta=delta, theory=theory, x_max=x_max,
                              legend="laws")
        hide_inner_labels(ax, i, len(cutoffs), ncols_used)
    # one legend for the marks that every panel shares: points, spread and theory
    handles, labels = [], []
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab.split(",")[0] not in fits["law"].unique() and lab not in labels:
                handles.append(h)
                labels.append(lab)
    if handles and spare:
        spare[0].set_visible(True)
        spare[0].axis("off")
        spare[0].legend(handles, labels, loc="center", fontsize="medium", frameon=False)
    elif handles:
        fig.legend(handles, labels, loc="outside lower center", ncol=len(handles),
                   fontsize="small", frameon=False)
    return fig


def plot_learning_regimes(mean, slope, *, delta: float, boundaries: Sequence[float],
                          theory: Callable | None = None, theory_slope: float | None = -0.5,
                          labels: Sequence[str] = ("(a) guessing", "(b) transition",
                                                   "(c) power law"),
                          figsize: tuple[float, float] = (7.0, 5.6)):
    """Excess risk (top, with the seed spread) and its local log-log slope (bottom), with the
    regimes separated at ``boundaries`` shaded and labelled."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=figsize, sharex=True, layout="constrained",
                                      height_ratios=(3, 2))
    n = mean["n"].to_numpy(float)
    if {"min", "max"} <= set(mean.columns):
        top.fill_between(n, mean["min"] - delta, mean["max"] - delta, color=COLORS["fit"],
                         alpha=0.3, lw=0, label="spread over seeds")
    top.plot(n, mean["mean"] - delta, "o", ms=3.5, color=COLORS["fit"], label="mean over seeds")
    if theory is not None:
        n_theory = n[n >= boundaries[0]] if len(boundaries) else n
        top.plot(n_theory, theory(n_theory), ls="--", lw=1.2, color="black",
                 label="theory, slope -1/2")
    log_axis(top, "y")
    top.set_ylabel("excess risk")
    top.legend(loc="lower left", fontsize="small")
    bottom.plot(n, slope, "-o", ms=3, lw=1.2, color=COLORS["law"], label="local slope")
    if theory_slope is not None:
        bottom.axhline(theory_slope, ls="--", lw=1.2, color="black", label=f"{theory_slope:g}")
    bottom.set_ylabel("local slope\n(log excess risk vs log n)")
    bottom.set_xlabel("training set size")
    bottom.legend(loc="lower left", fontsize="small")
    edges = [n.min() / 1.2, *boundaries, n.max() * 1.2]
    shades = ("0.96", "0.9", "1.0")
    for ax in (top, bottom):
        for k in range(len(edges) - 1):
            ax.axvspan(edges[k], edges[k + 1], color=shades[k % len(shades)], zorder=0, lw=0)
        for b in boundaries:
            ax.axvline(b, color="0.6", lw=0.8, ls=":")
    for k, label in enumerate(labels[:len(edges) - 1]):
        mid = np.sqrt(edges[k] * edges[k + 1])
        top.text(mid, 0.98, label, transform=top.get_xaxis_transform(), ha="center", va="top",
                 fontsize="small")
    log_axis(bottom, "x")
    bottom.set_xlim(edges[0], edges[-1])
    return fig


def _sweep_law(sweep, c):
    """The M2 law of the sweep row whose exponent is closest to ``c``."""
    from ..laws.paper import M2

    i = int(np.argmin(np.abs(sweep["c"].to_numpy(float) - c)))
    row = sweep.iloc[i]
    if abs(row["c"] - c) > 1e-9:
        raise ValueError(f"the sweep has no exponent c = {c:g}; its grid runs from "
                         f"{sweep['c'].max():g} to {sweep['c'].min():g}.")
    return M2.from_params(beta=row["beta"], c=row["c"], eps_inf=row["eps_inf"]), row


def _windowed_points(ax, curve, fit_range, test_range, x_range, markersize=10):
    x, y = np.asarray(curve.x, float), np.asarray(curve.loss, float)
    shown = (x >= x_range[0]) & (x <= x_range[1])
    fit = shown & (x >= fit_range[0]) & (x <= fit_range[1])
    test = shown & (x >= test_range[0]) & (x <= test_range[1])
    other = shown & ~fit & ~test
    ax.scatter(x[other], y[other], s=markersize, color=UNUSED_COLOR, linewidths=0, zorder=3,
               label="not used")
    ax.scatter(x[fit], y[fit], s=markersize, color=COLORS["fit"], linewidths=0, zorder=3,
               label="fitted")
    ax.scatter(x[test], y[test], s=markersize, color=COLORS["held_out"], linewidths=0, zorder=3,
               label="held out")


def plot_fixed_exponent_fits(curve, sweep, cs: Sequence[float], ax=None, *,
                             fit_range: tuple[float, float], test_range: tuple[float, float],
                             x_range: tuple[float, float] = (1e8, 3e9), colors=None,
                             title: str | None = None, legend: bool = True, markersize=10,
                             ylabel: str = "10-shot error (ImageNet)"):
    """M2 fits with fixed exponents (rows of a :func:`scaling.studies.foundations.fixed_exponent_sweep`)
    over the curve's points: fitting window grey, extrapolation window orange, the rest light.

    ``colors`` gives one colour per exponent; by default the first and the last exponent are
    coloured (:data:`EXPONENT_END_COLORS`) and those in between grey.
    """
    ax = new_ax(ax)
    _windowed_points(ax, curve, fit_range, test_range, x_range, markersize)
    if colors is None:
        colors = [EXPONENT_END_COLORS[0] if i == 0 else EXPONENT_END_COLORS[1]
                  if i == len(cs) - 1 else "0.45" for i in range(len(cs))]
    grid = np.geomspace(*x_range, 300)
    for c, color in zip(cs, colors):
        law, _ = _sweep_law(sweep, c)
        ax.plot(grid, law.predict(grid), lw=1.6, color=color, label=f"c = {c:.2f}", zorder=2)
    log_axis(ax, "x")
    log_axis(ax, "y")
    ax.set_xlim(*x_range)
    ax.set_xlabel("examples seen")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if legend:
        ax.legend(loc="upper right", fontsize="small", ncol=2)
    _decimal_log_ticks(ax)
    return ax


def _decimal_log_ticks(ax, ticks=(0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)):
    """Label a log y axis that spans less than a decade with plain decimals (0.4, 0.5, ...),
    and its log x axis at 1, 2 and 5 times powers of ten."""
    from matplotlib.ticker import FixedLocator, FormatStrFormatter

    lo, hi = sorted(ax.get_ylim())
    inside = [t for t in ticks if lo <= t <= hi]
    if len(inside) >= 2:
        ax.yaxis.set_major_locator(FixedLocator(inside))
        ax.yaxis.set_major_formatter(FormatStrFormatter("%.2f"))
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(LogFormatterSciNotation(labelOnlyBase=False))


def plot_rmse_against_exponent(sweep, ax=None, *, minima=None, marker_c: float | None = None,
                               legend: bool = True):
    """Interpolation and extrapolation RMSE (log scale) against the fixed exponent ``c``.

    ``minima`` (from :func:`scaling.studies.foundations.sweep_minima`) marks the two minima with dashed
    lines; ``marker_c`` draws a vertical line at one exponent (used by the slider).
    """
    ax = new_ax(ax)
    for crit, color in CRITERION_COLORS.items():
        label = crit
        if minima is not None:
            c_min = minima.loc[crit, "argmin_c"]
            ax.axvline(c_min, color=color, ls="--", lw=1.2)
            label = f"{crit}, smallest at c = {c_min:.2f}"
        ax.plot(sweep["c"], sweep[f"{crit}_rmse"], lw=2, color=color, label=label)
    if marker_c is not None:
        ax.axvline(marker_c, color="black", lw=1.0)
    log_axis(ax, "y")
    ax.set_xlim(sweep["c"].max(), sweep["c"].min())   # 0 on the left, -1 on the right
    ax.set_xlabel("fixed exponent c")
    ax.set_ylabel("RMSE of log error (Eq. 6)")
    if legend:
        ax.legend(loc="upper center", fontsize="small")
    return ax


def plot_figure3(curve, sweep, *, left_cs: Sequence[float], middle_cs: Sequence[float],
                 fit_range: tuple[float, float], test_range: tuple[float, float], minima=None,
                 x_range: tuple[float, float] = (1e8, 3e9), figsize=(10.0, 8.0)):
    """The paper's Figure 3: exponents that fit alike (top left), exponents that do not (top
    right), and both RMSE criteria against the exponent (bottom, full width). The paper puts
    the three panels in one row; two rows keep them legible on a page."""
    fig = plt.figure(figsize=figsize, layout="constrained")
    panels = fig.subplot_mosaic([["left", "middle"], ["right", "right"]])
    left, middle, right = panels["left"], panels["middle"], panels["right"]
    kw = dict(fit_range=fit_range, test_range=test_range, x_range=x_range)
    plot_fixed_exponent_fits(curve, sweep, left_cs, left, title="exponents that fit alike", **kw)
    middle_colors = [EXPONENT_END_COLORS[0], "black", EXPONENT_END_COLORS[1]][:len(middle_cs)]
    plot_fixed_exponent_fits(curve, sweep, middle_cs, middle, colors=middle_colors,
                             title="exponents that fit worse", **kw)
    plot_rmse_against_exponent(sweep, right, minima=minima)
    right.set_title("error against the fixed exponent")
    middle.set_ylim(left.get_ylim())
    return fig


def plot_fixed_exponent_grid(curve, sweep, cs: Sequence[float], *, fit_range, test_range,
                             x_range=(1e8, 3e9), ncols: int = 2,
                             panel_size: tuple[float, float] = (4.6, 3.0)):
    """Small multiples: one panel per fixed exponent, titled with its two RMSEs."""
    fig, axes = panel_grid(len(cs), ncols, panel_size, sharey=True)
    ncols_used = min(ncols, len(cs))
    for i, (ax, c) in enumerate(zip(axes, cs)):
        _, row = _sweep_law(sweep, c)
        plot_fixed_exponent_fits(curve, sweep, [c], ax, fit_range=fit_range, test_range=test_range,
                                 x_range=x_range, colors=[COLORS["law"]], legend=False,
                                 markersize=5)
        ax.lines[-1].set_label("M2 with c fixed")
        ax.set_title(f"c = {c:.2f}\ninterp. {row['interpolation_rmse']:.1e}, "
                     f"extrap. {row['extrapolation_rmse']:.1e}", fontsize="small")
        ax.tick_params(labelsize="x-small")
        hide_inner_labels(ax, i, len(cs), ncols_used)
        ax.xaxis.label.set_fontsize("small")
        ax.yaxis.label.set_fontsize("small")
    figure_legend(fig, axes[0], ncol=3)
    return fig


def live_frontend() -> bool:
    """Best guess whether this code runs in a kernel whose frontend can draw widgets.

    True in JupyterLab, Jupyter Notebook 7 and Binder (kernels started by jupyter_server get
    ``$JPY_SESSION_NAME``), in VS Code and other frontends that send a ``cellId`` with each
    execution request, and in Google Colab. False in plain Python and under the headless
    executors of the book build (nbclient) and of nbval, which draw nothing: a widget built
    there would only store state in the notebook and make the web page load the widget
    JavaScript from another host. ``$SCALING_WIDGETS=1`` (or ``0``) overrides the guess.
    """
    import os
    import sys

    forced = os.environ.get("SCALING_WIDGETS")
    if forced in ("0", "1"):
        return forced == "1"
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with the book's environment
        return False
    shell = get_ipython()
    kernel = getattr(shell, "kernel", None)
    if kernel is None:
        return False
    if "google.colab" in sys.modules or os.environ.get("JPY_SESSION_NAME"):
        return True
    try:
        parent = kernel.get_parent()
    except Exception:  # noqa: BLE001 - an unusual kernel: assume no widgets
        return False
    return bool((parent or {}).get("metadata", {}).get("cellId"))


def exponent_slider(curve, sweep, *, fit_range, test_range, x_range=(1e8, 3e9),
                    value: float = -0.24, minima=None, figsize=(11.0, 3.8)):
    """An ipywidgets slider over the exponents of a sweep, redrawing the fit and the RMSE curves.

    Every position shows precomputed rows of the sweep, so moving the slider fits nothing.
    Returns the widget (display it, or let the notebook show it as the cell's value). Needs a
    frontend that renders widgets (see :func:`live_frontend`).
    """
    import ipywidgets as widgets
    from IPython.display import display

    options = [(f"{c:.2f}", float(c)) for c in sweep.sort_values("c", ascending=False)["c"]]
    values = [v for _, v in options]
    start = values[int(np.argmin(np.abs(np.asarray(values) - value)))]
    slider = widgets.SelectionSlider(options=options, value=start, description="exponent c",
                                     continuous_update=False,
                                     layout=widgets.Layout(width="60%"))
    out = widgets.Output()

    def draw(c):
        with out:
            out.clear_output(wait=True)
            fig, (left, right) = plt.subplots(1, 2, figsize=figsize, layout="constrained")
            _, row = _sweep_law(sweep, c)
            plot_fixed_exponent_fits(curve, sweep, [c], left, fit_range=fit_range,
                                     test_range=test_range, x_range=x_range,
                                     colors=[COLORS["law"]],
                                     title=f"c = {c:.2f}: interpolation RMSE "
                                           f"{row['interpolation_rmse']:.1e}, extrapolation "
                                           f"{row['extrapolation_rmse']:.1e}")
            plot_rmse_against_exponent(sweep, right, minima=minima, marker_c=c)
            display(fig)
            plt.close(fig)

    slider.observe(lambda change: draw(change["new"]), names="value")
    draw(start)
    return widgets.VBox([slider, out])


def plot_bootstrap_curves(curves, ax=None, *, metric: str = "accuracy", mark_first_pass=True,
                          legend: bool = True):
    """Test accuracy (or error) against examples seen, one line per subset size, fresh data dashed.

    ``curves`` is the output of :func:`scaling.studies.foundations.bootstrap_curves`. A dot marks where
    each subset's first pass ends (examples seen = subset size).
    """
    if metric not in ("accuracy", "error"):
        raise ValueError(f"metric must be 'accuracy' or 'error', got {metric!r}.")
    ax = new_ax(ax)
    subsets = [s for s in dict.fromkeys(curves["subset"]) if s != "fresh"]
    palette = sequence_colors(len(subsets))  # ordered sizes: clearly distinct, never two oranges
    for color, label in zip(palette, subsets):
        run = curves[(curves["subset"] == label) & (curves["examples_seen"] > 0)]
        size = float(run["subset_size"].iloc[0])
        ax.plot(run["examples_seen"], run[metric], lw=1.8, color=color,
                label=f"subset of {int(size):,}")
        if mark_first_pass:
            y_at = np.interp(np.log(size), np.log(run["examples_seen"]), run[metric])
            ax.plot([size], [y_at], "o", ms=6, color=color, mec="white", zorder=4)
    fresh = curves[(curves["subset"] == "fresh") & (curves["examples_seen"] > 0)]
    if not fresh.empty:
        ax.plot(fresh["examples_seen"], fresh[metric], lw=1.4, ls="--", color="black",
                label="fresh examples", zorder=3)
    log_axis(ax, "x")
    ax.set_xlabel("examples seen")
    ax.set_ylabel(f"test {metric}")
    if legend:
        ax.legend(loc="best", fontsize="small")
    return ax


def plot_train_test_gap(curves, subset, ax=None, *, legend: bool = True):
    """Training and test error of one subset's run (recorded with ``record_train``)."""
    ax = new_ax(ax)
    run = curves[(curves["subset"] == str(subset)) & (curves["examples_seen"] > 0)]
    if run.empty or run["train_error"].isna().all():
        raise ValueError(f"no training error recorded for subset {subset!r}; pass "
                         f"record_train=[{subset}] to bootstrap_curves.")
    ax.plot(run["epochs"], run["error"], lw=2, color=COLORS["held_out"], label="test error")
    ax.plot(run["epochs"], run["train_error"], lw=2, color=COLORS["law"],
            label="training error (on the subset)")
    ax.axvline(1.0, color="0.6", ls=":", lw=1)
    log_axis(ax, "x")
    ax.set_xlabel("passes over the subset")
    ax.set_ylabel("error")
    ax.set_title(f"subset of {int(float(subset)):,} examples")
    if legend:
        ax.legend(loc="best", fontsize="small")
    return ax
