"""The book's figure style: one function per kind of figure.

Every chapter draws through these functions, so a reader adapting a cell needs three lines
(load a curve, fit a law, plot it) and every figure in the book looks the same:

* seaborn ``whitegrid`` style with the ``colorblind`` palette (:func:`set_style`);
* points used for fitting are grey, held-out points are orange;
* a fitted law is a blue line from the smallest x to three times the largest held-out x
  (:func:`extrapolation_grid`), so the reader sees where the law goes after the data stop;
* x (data seen) is on a log axis.

>>> from scaling.report import plotting
from scaling import law_for_domain# doctest: +SKIP
>>> plotting.set_style()                                   # doctest: +SKIP
>>> law = law_for_domain("M4", curve.domain).fit(curve.x_fit, curve.loss_fit)  # doctest: +SKIP
>>> plotting.plot_fit(curve, law)                          # doctest: +SKIP

This module holds only what several chapters share: the style, the colours, the generic figures
(a curve, a fit, grids of them, profiles, win-fraction bars) and the building blocks
(:func:`new_ax`, :func:`panel_grid`, :func:`log_axis` ...). The figures of one chapter family live
with its study, in ``scaling/studies/<family>_plots.py`` (e.g. Figure 3 in
:mod:`scaling.studies.foundations_plots`).

Functions return the matplotlib ``Axes`` (single panels) or ``Figure`` (grids) they drew on.
In a notebook, end the cell with ``;`` to keep the repr of that object out of the output.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import LogFormatterSciNotation, LogLocator, NullLocator
import seaborn as sns


__all__ = [
    "PALETTE", "COLORS", "LAW_COLORS", "X_LABELS", "Y_LABELS", "EXTRAPOLATION_FACTOR",
    "set_style", "extrapolation_grid", "label_axes",
    "plot_curve", "plot_fit", "plot_curves", "plot_law_grid", "plot_functions", "plot_profile",
    "plot_profile_2d", "plot_win_fractions",
    # building blocks of the figures in scaling/studies/<family>_plots.py
    "new_ax", "log_axis", "finish_log_axes", "hide_inner_labels", "panel_grid", "figure_legend",
    "law_rmse",
]

#: The seaborn ``colorblind`` palette every figure draws from.
PALETTE = sns.color_palette("colorblind")

#: Colours of the three kinds of marks in every figure.
COLORS = {"fit": "0.55", "held_out": PALETTE[1], "law": PALETTE[0]}
#: One colour per law, for figures that overlay several laws on one panel.
LAW_COLORS = {"M1": PALETTE[2], "M2": PALETTE[4], "M3": PALETTE[5], "M4": PALETTE[0],
              # the later laws (chapters "Beyond the paper"); Chinchilla is M2's form, so a darker purple
              "BNSL": PALETTE[3], "Chinchilla": "#6a3d9a"}

#: Axis labels per benchmark domain.
X_LABELS = {
    "IC": "examples seen in pre-training",
    "NMT": "training set size (sentence pairs)",
    "LM": "tokens seen",
    "BB": "examples seen in pre-training",
}
Y_LABELS = {
    "IC": "few-shot error rate",
    "NMT": "log-perplexity",
    "LM": "validation loss (rescaled)",
    "BB": "error (rescaled metric)",
}

#: How far past the data a fitted law is drawn: to this multiple of the largest held-out x.
EXTRAPOLATION_FACTOR = 3.0


def set_style(context: str = "notebook", dpi: int = 110) -> None:
    """Apply the book's style: seaborn whitegrid, colorblind palette, crisp figures."""
    sns.set_theme(context=context, style="whitegrid", palette="colorblind")
    plt.rcParams.update({
        "figure.dpi": dpi,
        "savefig.dpi": dpi,
        "figure.figsize": (6.0, 4.0),
        "axes.titlesize": "medium",
        "legend.frameon": True,
        "legend.framealpha": 0.9,
    })


def extrapolation_grid(curve, factor: float = EXTRAPOLATION_FACTOR, num: int = 300) -> np.ndarray:
    """Log-spaced x from the curve's smallest x to ``factor`` times its largest held-out x."""
    if factor <= 0:
        raise ValueError(f"factor must be positive, got {factor}.")
    x_test = np.asarray(curve.x_test, dtype=float)
    x_end = factor * (x_test.max() if x_test.size else np.max(curve.x))
    x_start = float(np.min(curve.x))
    return np.geomspace(x_start, max(x_end, x_start * 1.0001), num)


def new_ax(ax, figsize=(6.0, 4.0)):
    """``ax``, or the axes of a new constrained-layout figure of ``figsize``."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def log_axis(ax, which: str = "x") -> None:
    """Log scale without minor ticks: the style draws no ticks, and minor log ticks make the
    layout of a grid of panels several times slower to compute."""
    axis = ax.xaxis if which == "x" else ax.yaxis
    (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    axis.set_minor_locator(NullLocator())


def finish_log_axes(ax) -> None:
    """On a log axis spanning less than ~1.5 decades, label 1, 2 and 5 times powers of ten
    (without minor ticks there would otherwise be one label or none)."""
    for axis, lim in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
        lo, hi = sorted(lim)
        if axis.get_scale() == "log" and lo > 0 and np.log10(hi / lo) < 1.5:
            axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            axis.set_major_formatter(LogFormatterSciNotation(labelOnlyBase=False))


def label_axes(ax, curve=None, *, xlabel: str | None = None, ylabel: str | None = None,
               title: str | bool | None = True) -> None:
    """Log x axis, domain-specific axis labels and the curve's label as title."""
    log_axis(ax, "x")
    domain = getattr(curve, "domain", None)
    ax.set_xlabel(xlabel if xlabel is not None else X_LABELS.get(domain, "x"))
    ax.set_ylabel(ylabel if ylabel is not None else Y_LABELS.get(domain, "loss"))
    if title is True and curve is not None:
        ax.set_title(curve.label)
    elif isinstance(title, str):
        ax.set_title(title)


def plot_curve(curve, ax=None, *, markersize: float = 14, title: str | bool | None = True,
               xlabel: str | None = None, ylabel: str | None = None, legend: bool = True,
               counts: bool = True):
    """Scatter one learning curve: fitted points grey, held-out points orange.

    ``counts`` adds the number of points of each part to the legend labels.
    """
    ax = new_ax(ax)
    n_fit, n_test = (f" ({curve.n_fit})", f" ({curve.n_test})") if counts else ("", "")
    ax.scatter(curve.x_fit, curve.loss_fit, s=markersize, color=COLORS["fit"],
               label=f"fitted{n_fit}", zorder=3, linewidths=0)
    ax.scatter(curve.x_test, curve.loss_test, s=markersize, color=COLORS["held_out"],
               label=f"held out{n_test}", zorder=3, linewidths=0)
    label_axes(ax, curve, xlabel=xlabel, ylabel=ylabel, title=title)
    if legend:
        ax.legend(loc="best", fontsize="small")
    finish_log_axes(ax)
    return ax


def law_rmse(curve, law) -> float:
    """The extrapolation RMSE (Eq. 6) of a fitted law on the curve's held-out points."""
    from ..evaluate import extrapolation_rmse  # local import: plotting stays usable alone

    return extrapolation_rmse(curve.loss_test, law.predict(curve.x_test))


def plot_fit(curve, law, ax=None, *, label: str | None = None, color=None,
             factor: float = EXTRAPOLATION_FACTOR, show_rmse: bool = True, points: bool = True,
             title: str | bool | None = True, legend: bool = True, markersize: float = 14,
             counts: bool = True):
    """A learning curve with one fitted law drawn to ``factor`` x the last held-out x.

    ``label`` defaults to the law's name, followed by its extrapolation RMSE (Eq. 6) on the
    held-out points when ``show_rmse``.  ``points=False`` draws only the law (to overlay
    several laws on one panel).
    """
    ax = new_ax(ax)
    if points:
        plot_curve(curve, ax, markersize=markersize, title=title, legend=False, counts=counts)
    else:
        label_axes(ax, curve, title=title)
    x = extrapolation_grid(curve, factor)
    if label is None:
        label = getattr(law, "name", None) or type(law).__name__
        if show_rmse:
            label = f"{label}, RMSE {law_rmse(curve, law):.2g}"
    ax.plot(x, law.predict(x), color=COLORS["law"] if color is None else color, lw=2,
            label=label, zorder=2)
    if x.max() > np.max(curve.x):
        ax.axvspan(np.max(curve.x), x.max(), color="0.93", zorder=0, lw=0)
    if legend:
        ax.legend(loc="best", fontsize="small")
    finish_log_axes(ax)
    return ax


def hide_inner_labels(ax, i: int, n: int, ncols: int) -> None:
    """In a grid of ``n`` panels, keep y labels on the first column and x labels on the bottom row."""
    if i % ncols:
        ax.set_ylabel("")
    if i < n - ncols:
        ax.set_xlabel("")


def panel_grid(n: int, ncols: int, panel_size, sharex=False, sharey=False):
    """A figure with ``n`` panels in rows of ``ncols``; returns the figure and the ``n`` visible axes."""
    if n < 1:
        raise ValueError("nothing to plot: the list of curves is empty.")
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size[0] * ncols, panel_size[1] * nrows),
                             sharex=sharex, sharey=sharey, squeeze=False, layout="constrained")
    flat = axes.ravel()
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def figure_legend(fig, ax, ncol=3):
    """One legend above the figure, from the handles of ``ax``."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside upper center", ncol=ncol, fontsize="small",
                   frameon=False)


def plot_curves(curves: Sequence, *, laws: Sequence | None = None, ncols: int = 4,
                panel_size: tuple[float, float] = (3.4, 2.6), sharey: bool = False,
                title: Callable | None = None, suptitle: str | None = None,
                markersize: float = 8):
    """Small multiples: one panel per learning curve, with one legend for the figure.

    ``laws`` optionally gives one fitted law per curve (``None`` entries are skipped); each
    is drawn as in :func:`plot_fit`.  ``title(curve) -> str`` overrides the panel titles.
    Axis labels are written once per row / column, using the first curve's domain.
    """
    curves = list(curves)
    if laws is not None and len(laws) != len(curves):
        raise ValueError(f"got {len(laws)} laws for {len(curves)} curves; pass one per curve (or None).")
    fig, axes = panel_grid(len(curves), ncols, panel_size, sharey=sharey)
    ncols_used = min(ncols, len(curves))
    for i, (ax, curve) in enumerate(zip(axes, curves)):
        panel_title = title(curve) if title is not None else curve.label
        law = None if laws is None else laws[i]
        if law is None:
            plot_curve(curve, ax, markersize=markersize, title=panel_title, legend=False,
                       counts=False)
        else:
            plot_fit(curve, law, ax, label=getattr(law, "name", "fitted law"), show_rmse=False,
                     title=panel_title, legend=False, markersize=markersize, counts=False)
        ax.title.set_fontsize("small")
        ax.tick_params(labelsize="x-small")
        hide_inner_labels(ax, i, len(curves), ncols_used)
        ax.xaxis.label.set_fontsize("small")
        ax.yaxis.label.set_fontsize("small")
    legend_ax = axes[0]
    if laws is not None:
        legend_ax = next((a for a, l in zip(axes, laws) if l is not None), axes[0])
    figure_legend(fig, legend_ax)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def plot_law_grid(curve, laws: Mapping[str, object] | Sequence, *, ncols: int = 2,
                  panel_size: tuple[float, float] = (4.4, 3.2), sharey: bool = True,
                  factor: float = EXTRAPOLATION_FACTOR, suptitle: str | bool | None = True):
    """One curve, one panel per fitted law (as in the paper's Figures 1, 5 and 8).

    ``laws`` maps a panel title (e.g. ``'M1'``) to a fitted law, or is a sequence of fitted
    laws titled by their ``name``.  Each panel's legend gives the extrapolation RMSE.  The
    panels fill rows of ``ncols`` (two by default, so that a page shows them large enough;
    ``ncols=len(laws)`` gives the paper's single row).
    """
    if not isinstance(laws, Mapping):
        laws = {getattr(law, "name", f"law {i + 1}"): law for i, law in enumerate(laws)}
    fig, axes = panel_grid(len(laws), ncols, panel_size, sharey=sharey)
    ncols_used = min(ncols, len(laws))
    for i, (ax, (name, law)) in enumerate(zip(axes, laws.items())):
        plot_fit(curve, law, ax, label=f"{name}, RMSE {law_rmse(curve, law):.2g}", factor=factor,
                 title=name, legend=True)
        ax.legend(loc="upper right", fontsize="small")
        hide_inner_labels(ax, i, len(laws), ncols_used)
    if suptitle is True:
        fig.suptitle(curve.label)
    elif isinstance(suptitle, str):
        fig.suptitle(suptitle)
    return fig


def plot_functions(x, ys: Mapping[str, np.ndarray], ax=None, *, logy: bool = False,
                   xlabel: str = "x", ylabel: str = "loss", title: str | None = None,
                   colors: Mapping[str, object] | None = None, styles: Mapping[str, str] | None = None,
                   legend_title: str | None = None):
    """Several functions of x on one log-x panel, one labelled line each (shapes of the laws)."""
    ax = new_ax(ax)
    palette = sns.color_palette("colorblind", max(len(ys), 1))
    for i, (name, y) in enumerate(ys.items()):
        color = (colors or {}).get(name, palette[i % len(palette)])
        ax.plot(x, y, lw=2, color=color, ls=(styles or {}).get(name, "-"), label=name)
    log_axis(ax, "x")
    if logy:
        log_axis(ax, "y")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small", title=legend_title, title_fontsize="small")
    finish_log_axes(ax)
    return ax


def plot_profile(grid, values: Mapping[str, np.ndarray], ax=None, *,
                 best: Mapping[str, float | Mapping[str, float]] | None = None,
                 xlabel: str = r"$\varepsilon_\infty$",
                 ylabel: str = "profile loss (mean squared log residual)", logy: bool = True,
                 title: str | None = None, colors: Mapping[str, object] | None = None,
                 ylim: tuple[float | None, float | None] | None = None):
    """Profile loss curves (loss after solving the linear parameters) against one parameter.

    ``values`` maps a label (e.g. ``'M2'``) to the profile loss on ``grid``.  ``best`` maps the
    same labels to the fitted value of the parameter, or to a ``{description: value}`` mapping
    of several marked values (e.g. a global and a local minimum); each is a dashed line.
    ``ylim`` = ``(bottom, top)`` zooms in on the valleys (the profile shoots up near the data).
    """
    ax = new_ax(ax)
    dashes = ["--", ":", "-."]
    for name, v in values.items():
        color = (colors or LAW_COLORS).get(name)
        line, = ax.plot(grid, v, lw=2, color=color, label=name)
        marks = (best or {}).get(name)
        if marks is None:
            continue
        if not isinstance(marks, Mapping):
            marks = {"fit": marks}
        for k, (what, value) in enumerate(marks.items()):
            ax.axvline(value, color=line.get_color(), ls=dashes[k % len(dashes)], lw=1.4,
                       label=f"{name} {what}: {value:.3g}")
    if logy:
        log_axis(ax, "y")
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    finish_log_axes(ax)
    return ax


def plot_profile_2d(x_grid, y_grid, values, ax=None, *, best: tuple[float, float] | None = None,
                    xlabel: str = r"$\varepsilon_\infty$", ylabel: str = r"$\varepsilon_0$",
                    title: str | None = None, levels: int = 16, best_label: str = "fit",
                    decades: float = 1.0):
    """Contours of a two-parameter profile loss (``values[i, j]`` at ``x_grid[i], y_grid[j]``).

    The colour is the log10 of the loss, clipped at ``decades`` above its minimum so that the
    shape of the valley stays visible next to the steep walls; ``best`` marks the fitted
    ``(x, y)`` with a star.
    """
    ax = new_ax(ax)
    values = np.asarray(values, dtype=float)
    if values.shape != (len(x_grid), len(y_grid)):
        raise ValueError(f"values has shape {values.shape}, expected ({len(x_grid)}, {len(y_grid)}).")
    z = np.log10(np.where(values > 0, values, np.nan)).T
    z_min = np.nanmin(z)
    bounds = np.linspace(z_min, z_min + decades, levels + 1)
    z = np.minimum(z, bounds[-1])
    filled = ax.contourf(x_grid, y_grid, z, levels=bounds, cmap="viridis_r")
    ax.contour(x_grid, y_grid, z, levels=bounds[:-1], colors="white", linewidths=0.3, alpha=0.6)
    bar = ax.figure.colorbar(filled, ax=ax, label="log10 profile loss")
    bar.set_ticks(bounds[::4])
    bar.set_ticklabels([f"{b:.2f}" for b in bounds[::4]])
    if best is not None:
        ax.plot(*best, marker="*", ms=16, color=COLORS["held_out"], mec="black", ls="none",
                label=best_label, clip_on=False, zorder=5)
        ax.legend(loc="best", fontsize="small")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(False)
    if title:
        ax.set_title(title)
    return ax


def plot_win_fractions(table, ax=None, *, reference: str | None = None,
                       colors: Sequence | None = None, annotate: bool = True,
                       ylabel: str = "fraction of curves won", title: str | None = None):
    """Grouped bars of win fractions: one group per law, one bar per row of ``table``.

    ``table`` has one row per variant (its index gives the legend labels) and one column per
    law.  The row named ``reference`` (e.g. the paper's values) is drawn hollow and hatched so
    that it stands apart from our own numbers.  ``annotate`` writes each value above its bar.
    """
    ax = new_ax(ax, figsize=(7.5, 3.8))
    labels = [str(i) for i in table.index]
    laws = list(table.columns)
    n = len(labels)
    if n == 0:
        raise ValueError("the win-fraction table is empty.")
    palette = list(colors) if colors is not None else sns.color_palette("colorblind", n)
    width = 0.8 / n
    x = np.arange(len(laws))
    k = 0
    for i, label in enumerate(labels):
        values = table.iloc[i].to_numpy(dtype=float)
        pos = x - 0.4 + width * (i + 0.5)
        if reference is not None and label == str(reference):
            bars = ax.bar(pos, values, width, facecolor="white", edgecolor="0.2", hatch="///",
                          lw=1.0, label=label, zorder=3)
        else:
            bars = ax.bar(pos, values, width, color=palette[k % len(palette)], label=label, zorder=3)
            k += 1
        if annotate:
            for bar, v in zip(bars, values):
                ax.text(bar.get_x() + bar.get_width() / 2, v + 0.01, f"{v:.2f}", ha="center",
                        va="bottom", fontsize=6.5, rotation=90 if n > 4 else 0)
    ax.set_xticks(x, laws)
    ax.set_ylim(0, min(1.05, max(0.2, float(np.nanmax(table.to_numpy(dtype=float))) + 0.15)))
    ax.set_ylabel(ylabel)
    ax.grid(axis="x", visible=False)
    if title:
        ax.set_title(title)
    ax.legend(loc="upper left", fontsize="x-small", ncol=1)
    return ax
