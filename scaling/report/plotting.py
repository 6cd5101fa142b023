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

Functions return the matplotlib ``Axes`` (single panels) or ``Figure`` (grids) they drew on.
In a notebook, end the cell with ``;`` to keep the repr of that object out of the output.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import LogFormatterSciNotation, LogLocator, NullLocator
import seaborn as sns

from ..benchmark.catalogue import PAPER_LAWS

__all__ = [
    "COLORS", "LAW_COLORS", "X_LABELS", "Y_LABELS",
    "set_style", "extrapolation_grid", "label_axes",
    "plot_curve", "plot_fit", "plot_curves", "plot_law_grid", "plot_functions", "plot_profile",
    "plot_profile_2d",
]

_CB = sns.color_palette("colorblind")

#: Colours of the three kinds of marks in every figure.
COLORS = {"fit": "0.55", "held_out": _CB[1], "law": _CB[0]}
#: One colour per law, for figures that overlay several laws on one panel.
LAW_COLORS = {"M1": _CB[2], "M2": _CB[4], "M3": _CB[5], "M4": _CB[0],
              # the later laws (chapters "Beyond the paper"); Chinchilla is M2's form, so a darker purple
              "BNSL": _CB[3], "Chinchilla": "#6a3d9a"}

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


def _new_ax(ax, figsize=(6.0, 4.0)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _log_axis(ax, which: str = "x") -> None:
    """Log scale without minor ticks: the style draws no ticks, and minor log ticks make the
    layout of a grid of panels several times slower to compute."""
    axis = ax.xaxis if which == "x" else ax.yaxis
    (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    axis.set_minor_locator(NullLocator())


def _finish_log_axes(ax) -> None:
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
    _log_axis(ax, "x")
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
    ax = _new_ax(ax)
    n_fit, n_test = (f" ({curve.n_fit})", f" ({curve.n_test})") if counts else ("", "")
    ax.scatter(curve.x_fit, curve.loss_fit, s=markersize, color=COLORS["fit"],
               label=f"fitted{n_fit}", zorder=3, linewidths=0)
    ax.scatter(curve.x_test, curve.loss_test, s=markersize, color=COLORS["held_out"],
               label=f"held out{n_test}", zorder=3, linewidths=0)
    label_axes(ax, curve, xlabel=xlabel, ylabel=ylabel, title=title)
    if legend:
        ax.legend(loc="best", fontsize="small")
    _finish_log_axes(ax)
    return ax


def _rmse(curve, law) -> float:
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
    ax = _new_ax(ax)
    if points:
        plot_curve(curve, ax, markersize=markersize, title=title, legend=False, counts=counts)
    else:
        label_axes(ax, curve, title=title)
    x = extrapolation_grid(curve, factor)
    if label is None:
        label = getattr(law, "name", None) or type(law).__name__
        if show_rmse:
            label = f"{label}, RMSE {_rmse(curve, law):.2g}"
    ax.plot(x, law.predict(x), color=COLORS["law"] if color is None else color, lw=2,
            label=label, zorder=2)
    if x.max() > np.max(curve.x):
        ax.axvspan(np.max(curve.x), x.max(), color="0.93", zorder=0, lw=0)
    if legend:
        ax.legend(loc="best", fontsize="small")
    _finish_log_axes(ax)
    return ax


def _hide_inner_labels(ax, i: int, n: int, ncols: int) -> None:
    """In a grid of ``n`` panels, keep y labels on the first column and x labels on the bottom row."""
    if i % ncols:
        ax.set_ylabel("")
    if i < n - ncols:
        ax.set_xlabel("")


def _grid(n: int, ncols: int, panel_size, sharex=False, sharey=False):
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


def _figure_legend(fig, ax, ncol=3):
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
    fig, axes = _grid(len(curves), ncols, panel_size, sharey=sharey)
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
        _hide_inner_labels(ax, i, len(curves), ncols_used)
        ax.xaxis.label.set_fontsize("small")
        ax.yaxis.label.set_fontsize("small")
    legend_ax = axes[0]
    if laws is not None:
        legend_ax = next((a for a, l in zip(axes, laws) if l is not None), axes[0])
    _figure_legend(fig, legend_ax)
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
    fig, axes = _grid(len(laws), ncols, panel_size, sharey=sharey)
    ncols_used = min(ncols, len(laws))
    for i, (ax, (name, law)) in enumerate(zip(axes, laws.items())):
        plot_fit(curve, law, ax, label=f"{name}, RMSE {_rmse(curve, law):.2g}", factor=factor,
                 title=name, legend=True)
        ax.legend(loc="upper right", fontsize="small")
        _hide_inner_labels(ax, i, len(laws), ncols_used)
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
    ax = _new_ax(ax)
    palette = sns.color_palette("colorblind", max(len(ys), 1))
    for i, (name, y) in enumerate(ys.items()):
        color = (colors or {}).get(name, palette[i % len(palette)])
        ax.plot(x, y, lw=2, color=color, ls=(styles or {}).get(name, "-"), label=name)
    _log_axis(ax, "x")
    if logy:
        _log_axis(ax, "y")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small", title=legend_title, title_fontsize="small")
    _finish_log_axes(ax)
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
    ax = _new_ax(ax)
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
        _log_axis(ax, "y")
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    _finish_log_axes(ax)
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
    ax = _new_ax(ax)
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


# =============================================================================================
# Figures 2, 3 and 4 (chapters "a synthetic learning curve", "extrapolation, not interpolation"
# and "bootstrapped examples"). Appended; the functions above are unchanged.
# =============================================================================================

#: Exponent colours of the Figure 3 panels: the first and last exponent are coloured, those in
#: between grey (as in the paper, which uses blue and red; red is too close to the orange of the
#: held-out points).
EXPONENT_END_COLORS = (_CB[0], _CB[4])
#: Colours of the two RMSE criteria of Figure 3.
CRITERION_COLORS = {"interpolation": _CB[0], "extrapolation": _CB[1]}
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
    ax = _new_ax(ax)
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
    _log_axis(ax, "x")
    _log_axis(ax, "y")
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
        ax.legend(loc="lower left", fontsize="x-small")
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
    fig, axes = _grid(len(cutoffs), ncols, panel_size, sharey=True)
    spare = [ax for ax in fig.axes if not ax.get_visible()]   # empty slots of the grid
    ncols_used = min(ncols, len(cutoffs))
    for i, (ax, cutoff) in enumerate(zip(axes, cutoffs)):
        plot_excess_risk_fits(mean, fits, cutoff, ax, delta=delta, theory=theory, x_max=x_max,
                              legend="laws")
        _hide_inner_labels(ax, i, len(cutoffs), ncols_used)
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
    _log_axis(top, "y")
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
    _log_axis(bottom, "x")
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
    ax = _new_ax(ax)
    _windowed_points(ax, curve, fit_range, test_range, x_range, markersize)
    if colors is None:
        colors = [EXPONENT_END_COLORS[0] if i == 0 else EXPONENT_END_COLORS[1]
                  if i == len(cs) - 1 else "0.45" for i in range(len(cs))]
    grid = np.geomspace(*x_range, 300)
    for c, color in zip(cs, colors):
        law, _ = _sweep_law(sweep, c)
        ax.plot(grid, law.predict(grid), lw=1.6, color=color, label=f"c = {c:.2f}", zorder=2)
    _log_axis(ax, "x")
    _log_axis(ax, "y")
    ax.set_xlim(*x_range)
    ax.set_xlabel("examples seen")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if legend:
        ax.legend(loc="upper right", fontsize="x-small", ncol=2)
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
    ax = _new_ax(ax)
    for crit, color in CRITERION_COLORS.items():
        label = crit
        if minima is not None:
            c_min = minima.loc[crit, "argmin_c"]
            ax.axvline(c_min, color=color, ls="--", lw=1.2)
            label = f"{crit}, smallest at c = {c_min:.2f}"
        ax.plot(sweep["c"], sweep[f"{crit}_rmse"], lw=2, color=color, label=label)
    if marker_c is not None:
        ax.axvline(marker_c, color="black", lw=1.0)
    _log_axis(ax, "y")
    ax.set_xlim(sweep["c"].max(), sweep["c"].min())   # 0 on the left, -1 on the right
    ax.set_xlabel("fixed exponent c")
    ax.set_ylabel("RMSE of log error (Eq. 6)")
    if legend:
        ax.legend(loc="upper center", fontsize="x-small")
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
    fig, axes = _grid(len(cs), ncols, panel_size, sharey=True)
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
        _hide_inner_labels(ax, i, len(cs), ncols_used)
        ax.xaxis.label.set_fontsize("small")
        ax.yaxis.label.set_fontsize("small")
    _figure_legend(fig, axes[0], ncol=3)
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
    ax = _new_ax(ax)
    subsets = [s for s in dict.fromkeys(curves["subset"]) if s != "fresh"]
    palette = sns.color_palette("colorblind", max(len(subsets), 1))
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
    _log_axis(ax, "x")
    ax.set_xlabel("examples seen")
    ax.set_ylabel(f"test {metric}")
    if legend:
        ax.legend(loc="best", fontsize="small")
    return ax


def plot_train_test_gap(curves, subset, ax=None, *, legend: bool = True):
    """Training and test error of one subset's run (recorded with ``record_train``)."""
    ax = _new_ax(ax)
    run = curves[(curves["subset"] == str(subset)) & (curves["examples_seen"] > 0)]
    if run.empty or run["train_error"].isna().all():
        raise ValueError(f"no training error recorded for subset {subset!r}; pass "
                         f"record_train=[{subset}] to bootstrap_curves.")
    ax.plot(run["epochs"], run["error"], lw=2, color=COLORS["held_out"], label="test error")
    ax.plot(run["epochs"], run["train_error"], lw=2, color=COLORS["law"],
            label="training error (on the subset)")
    ax.axvline(1.0, color="0.6", ls=":", lw=1)
    _log_axis(ax, "x")
    ax.set_xlabel("passes over the subset")
    ax.set_ylabel("error")
    ax.set_title(f"subset of {int(float(subset)):,} examples")
    if legend:
        ax.legend(loc="best", fontsize="small")
    return ax


__all__ += [
    "EXPONENT_END_COLORS", "CRITERION_COLORS", "UNUSED_COLOR",
    "plot_excess_risk_fits", "plot_cutoff_panels", "plot_learning_regimes",
    "plot_fixed_exponent_fits", "plot_rmse_against_exponent", "plot_figure3",
    "plot_fixed_exponent_grid", "live_frontend", "exponent_slider",
    "plot_bootstrap_curves", "plot_train_test_gap",
]


# ---------------------------------------------------------------------------------------------
# Image classification (chapters "image classification" and "Appendix A.3")
# ---------------------------------------------------------------------------------------------

#: Colours of the smaller and the larger model of an architecture family (Figures 6 and 7).
SIZE_COLORS = {"small": _CB[0], "large": _CB[3]}


def plot_law_rows(curves: Sequence, laws: Sequence[Mapping[str, object]], *,
                  row_labels: Sequence[str] | None = None,
                  winners: Sequence[Sequence[str]] | None = None,
                  panel_size: tuple[float, float] = (3.0, 2.2), markersize: float = 6,
                  factor: float = EXTRAPOLATION_FACTOR, suptitle: str | None = None,
                  ylim: tuple[float, float] | None = None, sharex: bool = False,
                  layout: str | None = "constrained", fontsize: str | float = "x-small"):
    """A grid of fitted laws: one row per curve, one column per law (Figures 1, 5 and 10-23).

    ``laws[i]`` maps a column title (``'M1'`` ...) to the fitted law for ``curves[i]``; every row
    must use the same titles.  Each panel shows the curve (fitted points grey, held-out orange),
    the law drawn to ``factor`` x the last held-out x and its extrapolation RMSE (Eq. 6).
    ``winners[i]`` names the laws that win row ``i``; their RMSE is printed in bold on a
    highlighted box.  ``row_labels`` (default: the curves' labels) label the rows.  Panels of a
    row share the y axis; ``sharex=True`` shares the x axis of all panels as well, which labels
    the ticks of the bottom row only.  ``layout=None`` skips matplotlib's layout engine and
    places the panels with fixed margins: several times faster for large grids (the appendix).
    ``fontsize`` sets the size of tick labels, axis labels and the RMSE boxes.
    """
    from .tables import sci  # local import: plotting stays usable alone

    curves = list(curves)
    if len(laws) != len(curves):
        raise ValueError(f"got {len(laws)} rows of laws for {len(curves)} curves; pass one mapping per curve.")
    if not curves:
        raise ValueError("nothing to plot: the list of curves is empty.")
    titles = list(laws[0])
    if any(list(row) != titles for row in laws):
        raise ValueError(f"every row of laws must have the same titles, {titles}.")
    if row_labels is not None and len(row_labels) != len(curves):
        raise ValueError(f"got {len(row_labels)} row labels for {len(curves)} curves.")
    nrows, ncols = len(curves), len(titles)
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size[0] * ncols, panel_size[1] * nrows),
                             squeeze=False, sharey="row", sharex=sharex, layout=layout)
    for i, (curve, row) in enumerate(zip(curves, laws)):
        win = set(winners[i]) if winners is not None else set()
        for j, (name, law) in enumerate(row.items()):
            ax = axes[i, j]
            plot_fit(curve, law, ax, label=name, show_rmse=False, factor=factor, title=False,
                     legend=False, markersize=markersize, counts=False)
            best = name in win
            ax.text(0.97, 0.95, f"RMSE {sci(_rmse(curve, law))}", transform=ax.transAxes,
                    ha="right", va="top", fontsize=fontsize, fontweight="bold" if best else "normal",
                    bbox=dict(boxstyle="round,pad=0.25", lw=0.8,
                              fc=COLORS["held_out"] if best else "white",
                              ec="0.3" if best else "0.8", alpha=0.85 if best else 0.75))
            ax.tick_params(labelsize=fontsize)
            ax.set_xlabel("")
            if j == 0:
                label = row_labels[i] if row_labels is not None else curve.label
                ax.set_ylabel(label, fontsize=fontsize)
            else:
                ax.set_ylabel("")
            if i == 0:
                ax.set_title(name, fontsize="small")
            if ylim is not None:
                ax.set_ylim(*ylim)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    names = {"fitted": "fitted points", "held out": "held-out points"}
    labels = [names.get(lab, "fitted law" if lab == titles[0] else lab) for lab in labels]
    handles.append(plt.Rectangle((0, 0), 1, 1, fc=COLORS["held_out"], ec="0.3"))
    labels.append("best RMSE in the row")
    if layout is None:
        width, height = fig.get_size_inches()
        top = 1.0 - (0.75 + (0.3 if suptitle else 0.0)) / height
        fig.subplots_adjust(left=0.75 / width, right=1.0 - 0.1 / width, bottom=0.55 / height, top=top,
                            wspace=0.08 if sharex else 0.15, hspace=0.12 if sharex else 0.35)
        fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 1.0 - (0.3 if suptitle else 0.0) / height),
                   ncol=len(labels), fontsize="small", frameon=False, markerscale=2.5)
    else:
        fig.legend(handles, labels, loc="outside upper center", ncol=len(labels), fontsize="small",
                   frameon=False, markerscale=2.5)
    fig.supxlabel(X_LABELS.get(curves[0].domain, "x"), fontsize=fontsize)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def plot_win_fractions(table, ax=None, *, reference: str | None = None,
                       colors: Sequence | None = None, annotate: bool = True,
                       ylabel: str = "fraction of curves won", title: str | None = None):
    """Grouped bars of win fractions: one group per law, one bar per row of ``table``.

    ``table`` has one row per variant (its index gives the legend labels) and one column per
    law.  The row named ``reference`` (e.g. the paper's values) is drawn hollow and hatched so
    that it stands apart from our own numbers.  ``annotate`` writes each value above its bar.
    """
    ax = _new_ax(ax, figsize=(7.5, 3.8))
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


def plot_exponents_by_shots(ours, paper=None, *, laws: Sequence[str] = ("M2", "M4"),
                   families: Sequence[str] = ("BiT", "ViT", "MiX"),
                   panel_size: tuple[float, float] = (3.0, 2.4), ylim=(-1.0, 0.0),
                   ours_label: str = "ours", paper_label: str = "paper",
                   second=None, second_label: str = "second estimator"):
    """Exponent against shot count, per law (rows) and architecture family (columns): Figure 6.

    ``ours`` (and optionally ``paper`` and ``second``) are long frames with columns ``law, family,
    size, model, shots, c``; each family has a ``small`` and a ``large`` model (colours
    :data:`SIZE_COLORS`).  Our values are filled markers joined by lines; the paper's are hollow
    markers of the same colour; ``second`` (e.g. another estimator's exponents) is small crosses
    joined by a thin dotted line.
    """
    fig, axes = plt.subplots(len(laws), len(families), squeeze=False, sharex=True, sharey=True,
                             figsize=(panel_size[0] * len(families), panel_size[1] * len(laws)),
                             layout="constrained")
    for i, law in enumerate(laws):
        for j, fam in enumerate(families):
            ax = axes[i, j]
            sub = ours[(ours["law"] == law) & (ours["family"] == fam)]
            for size in ("small", "large"):
                part = sub[sub["size"] == size].sort_values("shots")
                if part.empty:
                    continue
                color = SIZE_COLORS[size]
                ax.plot(part["shots"], part["c"], "o-", color=color, ms=5, lw=1.5,
                        label=f"{part['model'].iloc[0]} ({size})")
                if paper is not None:
                    ref = paper[(paper["law"] == law) & (paper["family"] == fam) & (paper["size"] == size)]
                    ref = ref.sort_values("shots")
                    ax.plot(ref["shots"], ref["c"], "o", mfc="none", mec=color, ms=9, mew=1.4)
                if second is not None:
                    alt = second[(second["law"] == law) & (second["family"] == fam) & (second["size"] == size)]
                    alt = alt.sort_values("shots")
                    ax.plot(alt["shots"], alt["c"], "x:", color=color, ms=5, mew=1.2, lw=0.9, alpha=0.8)
            ax.set_title(f"{law}, {fam}", fontsize="small")
            ax.set_xticks([5, 10, 25])
            ax.set_xlim(2, 28)
            if ylim is not None:
                ax.set_ylim(*ylim)
            ax.tick_params(labelsize="x-small")
            if j == 0:
                ax.set_ylabel("exponent c", fontsize="small")
            if i == len(laws) - 1:
                ax.set_xlabel("shots (ImageNet)", fontsize="small")
            ax.legend(loc="best", fontsize=6.5, handletextpad=0.3, borderpad=0.3)
    marks = [plt.Line2D([], [], color="0.3", marker="o", ms=5, lw=1.5, label=ours_label)]
    if paper is not None:
        marks.append(plt.Line2D([], [], color="0.3", marker="o", mfc="none", ms=9, mew=1.4, ls="none",
                                label=paper_label))
    if second is not None:
        marks.append(plt.Line2D([], [], color="0.3", marker="x", ms=5, mew=1.2, lw=0.9, ls=":",
                                label=second_label))
    fig.legend(handles=marks, loc="outside upper center", ncol=len(marks), fontsize="small", frameon=False)
    return fig


def plot_excess_risk_by_family(points, lines, *, families: Sequence[str] = ("BiT", "ViT", "MiX"),
                     panel_size: tuple[float, float] = (3.6, 3.0), law_name: str = "M4",
                     show_law: bool = True, xlim: tuple[float, float] | None = None):
    """Excess risk against examples seen on log-log axes, one panel per family: Figure 7.

    ``points`` and ``lines`` are the frames of :func:`scaling.studies.ic.excess_risk`.
    Dots are the measured error minus the fitted ``eps_inf`` (filled: fitted points, hollow:
    held-out points); the dashed line is the fitted law's large-x power law, whose slope is the
    exponent ``c`` given in the legend.  ``show_law`` adds the law's own excess risk as a thin
    solid line, which bends away from the power law where the curve is not yet in that regime.
    """
    fams = [f for f in families if f in set(points["family"])]
    if not fams:
        raise ValueError(f"no points for families {list(families)}.")
    fig, axes = plt.subplots(1, len(fams), squeeze=False, figsize=(panel_size[0] * len(fams), panel_size[1]),
                             layout="constrained")
    for ax, fam in zip(axes[0], fams):
        for size in ("small", "large"):
            pts = points[(points["family"] == fam) & (points["size"] == size)]
            lin = lines[(lines["family"] == fam) & (lines["size"] == size)]
            if pts.empty:
                continue
            color = SIZE_COLORS[size]
            model = pts["model"].iloc[0]
            fit = pts[pts["part"] == "fit"]
            held = pts[pts["part"] != "fit"]
            ax.scatter(fit["x"], fit["excess"], s=10, color=color, linewidths=0, zorder=3)
            ax.scatter(held["x"], held["excess"], s=10, facecolors="none", edgecolors=color,
                       linewidths=0.7, zorder=3)
            c = float(lin["c"].iloc[0])
            ax.plot(lin["x"], lin["power_law"], ls="--", lw=1.6, color=color,
                    label=f"{model}: c = {c:.3f}", zorder=2)
            if show_law:
                ax.plot(lin["x"], lin["law_excess"], ls="-", lw=0.9, color=color, alpha=0.6, zorder=2)
        _log_axis(ax, "x")
        _log_axis(ax, "y")
        if xlim is not None:
            ax.set_xlim(*xlim)
        lo = points.loc[points["family"] == fam, "excess"].min()
        hi = points.loc[points["family"] == fam, "excess"].max()
        ax.set_ylim(lo / 2, hi * 1.5)
        ax.set_title(fam, fontsize="small")
        ax.set_xlabel(X_LABELS["IC"], fontsize="small")
        ax.tick_params(labelsize="x-small")
        ax.legend(loc="lower left", fontsize="x-small", title=f"{law_name} power law",
                  title_fontsize="x-small")
        _finish_log_axes(ax)
    axes[0, 0].set_ylabel(r"excess error $\varepsilon_x - \hat\varepsilon_\infty$", fontsize="small")
    return fig


__all__ += ["SIZE_COLORS", "plot_law_rows", "plot_win_fractions", "plot_exponents_by_shots",
            "plot_excess_risk_by_family"]


# --- Figures of the language chapters (machine translation, language modelling, BIG-Bench) ---

__all__ += ["plot_overlay_grid", "plot_law_matrix", "plot_exponents", "plot_trend_residuals",
            "plot_noise_by_domain"]

# Overlays draw fitted points in grey, so M3 (grey in LAW_COLORS) gets a distinct colour there, and
# each law a line style and width that keep coinciding laws visible (M1 wide below, M4 thin on top).
_OVERLAY_COLORS = {**LAW_COLORS, "M3": "black"}
_OVERLAY_LINES = {"M1": ("-", 3.4), "M2": ("--", 2.0), "M3": ("-.", 1.8), "M4": ("-", 1.3)}


def _law_name(label: str) -> str:
    return str(label).split()[0].rstrip(",:")


def _law_color(name: str):
    """The colour of a law from a label that starts with its name ('M4', 'M4, local', ...)."""
    return _OVERLAY_COLORS.get(_law_name(name), COLORS["law"])


def plot_overlay_grid(curves: Sequence, fits: Sequence[Mapping[str, object]], *, ncols: int = 5,
                      titles: Sequence[str] | None = None, panel_size: tuple[float, float] = (3.2, 2.8),
                      styles: Mapping[str, str] | None = None, factor: float = EXTRAPOLATION_FACTOR,
                      suptitle: str | None = None, markersize: float = 16, ylim=None):
    """Small multiples with several fitted laws overlaid on each learning curve.

    ``fits[i]`` maps a label (starting with the law's name, which picks the colour of
    :data:`LAW_COLORS`) to a fitted law for ``curves[i]``; each law is drawn to ``factor`` times
    the last held-out x.  ``styles`` maps a label to a line style.  One legend for the figure.
    """
    curves = list(curves)
    if len(fits) != len(curves):
        raise ValueError(f"got {len(fits)} sets of fits for {len(curves)} curves; pass one mapping per curve.")
    fig, axes = _grid(len(curves), ncols, panel_size)
    ncols_used = min(ncols, len(curves))
    for i, (ax, curve, laws) in enumerate(zip(axes, curves, fits)):
        plot_curve(curve, ax, markersize=markersize, legend=False, counts=False,
                   title=titles[i] if titles is not None else curve.label)
        x = extrapolation_grid(curve, factor)
        for name, law in laws.items():
            ls, lw = _OVERLAY_LINES.get(_law_name(name), ("-", 1.8))
            ax.plot(x, law.predict(x), color=_law_color(name), lw=lw, zorder=2, label=name,
                    ls=(styles or {}).get(name, ls), alpha=0.9)
        ax.axvspan(np.max(curve.x), x.max(), color="0.93", zorder=0, lw=0)
        if ylim is not None:
            ax.set_ylim(*ylim)
        ax.title.set_fontsize("small")
        ax.tick_params(labelsize="x-small")
        ax.xaxis.label.set_fontsize("small")
        ax.yaxis.label.set_fontsize("small")
        _hide_inner_labels(ax, i, len(curves), ncols_used)
        _finish_log_axes(ax)
    _figure_legend(fig, axes[0], ncol=6)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def plot_law_matrix(curves: Sequence, fits: Sequence[Mapping[str, object]], *,
                    row_labels: Sequence[str] | None = None, panel_size: tuple[float, float] = (2.3, 1.75),
                    factor: float = EXTRAPOLATION_FACTOR, markersize: float = 7, suptitle: str | None = None):
    """A grid with one row per curve and one column per law (the layout of the paper's Figure 8).

    ``fits[i]`` maps a column title (e.g. ``'M1'``) to a law fitted to ``curves[i]``; every row
    uses the same titles.  Each panel names its extrapolation RMSE; panels of a row share y.
    """
    curves = list(curves)
    if len(fits) != len(curves) or not curves:
        raise ValueError(f"got {len(fits)} sets of fits for {len(curves)} curves; pass one mapping per curve.")
    names = list(fits[0])
    nrows, ncols = len(curves), len(names)
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size[0] * ncols, panel_size[1] * nrows),
                             sharey="row", squeeze=False, layout="constrained")
    for i, (curve, laws) in enumerate(zip(curves, fits)):
        for j, name in enumerate(names):
            ax, law = axes[i, j], laws[name]
            plot_fit(curve, law, ax, label=f"RMSE {_rmse(curve, law):.1e}", factor=factor,
                     title=name if i == 0 else None, legend=False, markersize=markersize)
            ax.legend(handles=ax.get_lines()[-1:], loc="upper right", fontsize="x-small",
                      handlelength=1.0, borderpad=0.3)
            ax.tick_params(labelsize="x-small")
            ax.set_ylabel(((row_labels[i] if row_labels is not None else curve.model) if j == 0 else ""),
                          fontsize="small")
            ax.set_xlabel(X_LABELS.get(curve.domain, "x") if i == nrows - 1 else "", fontsize="small")
            _finish_log_axes(ax)
    handles = [plt.Line2D([], [], ls="none", marker="o", ms=4, color=COLORS[k]) for k in ("fit", "held_out")]
    fig.legend(handles, ["fitted", "held out"], loc="outside upper center", ncol=2, fontsize="small",
               frameon=False)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def plot_exponents(x, series: Mapping[str, Mapping[str, Sequence[float]]], *,
                   laws: Sequence[str] = PAPER_LAWS, xlabel: str = "model size (parameters)",
                   ylabel: str = "exponent c", logx: bool = True,
                   panel_size: tuple[float, float] = (3.1, 2.8), markers: Mapping[str, str] | None = None):
    """One panel per law: the fitted exponent against a model property (the paper's Figure 9).

    ``series[label][law]`` holds one exponent per value of ``x``; every label is one line (e.g.
    ``'paper'``, ``'ours, global'``).  A label starting with ``'paper'`` is drawn in black.
    """
    x = np.asarray(x, dtype=float)
    fig, axes = _grid(len(laws), len(laws), panel_size)
    palette = sns.color_palette("colorblind")
    default_markers = ["o", "s", "^", "D", "v"]
    for ax, law in zip(axes, laws):
        for k, (label, values) in enumerate(series.items()):
            if law not in values:
                continue
            is_paper = str(label).startswith("paper")
            ax.plot(x, np.asarray(values[law], float), lw=1.6 if not is_paper else 1.2,
                    color="black" if is_paper else palette[k % len(palette)],
                    marker=(markers or {}).get(label, "x" if is_paper else default_markers[k % 5]),
                    ms=6, ls="--" if is_paper else "-", label=label, zorder=3 if is_paper else 2)
        if logx:
            _log_axis(ax, "x")
        ax.set_title(law)
        ax.set_xlabel(xlabel, fontsize="small")
        ax.tick_params(labelsize="x-small")
    axes[0].set_ylabel(ylabel)
    _figure_legend(fig, axes[0], ncol=len(series))
    return fig


def plot_trend_residuals(curves: Sequence, trends: Sequence[Callable], *, ncols: int = 5,
                         titles: Sequence[str] | None = None, panel_size: tuple[float, float] = (3.0, 3.4),
                         markersize: float = 10, percent: bool = True):
    """Each learning curve with a smooth trend (top) and the residuals around it (bottom).

    ``trends[i](x) -> loss`` is the trend of ``curves[i]``.  Residuals are ``log(loss) -
    log(trend)``, shown in percent (``percent=True``), fitted points grey and held-out points
    orange; the band marks plus and minus one standard deviation of the residuals.
    """
    curves = list(curves)
    if len(trends) != len(curves) or not curves:
        raise ValueError(f"got {len(trends)} trends for {len(curves)} curves; pass one per curve.")
    ncols = max(1, min(ncols, len(curves)))
    nrows = int(np.ceil(len(curves) / ncols))
    fig = plt.figure(figsize=(panel_size[0] * ncols, panel_size[1] * nrows), layout="constrained")
    outer = fig.add_gridspec(nrows, ncols)
    scale = 100.0 if percent else 1.0
    top_axes = []
    for i, (curve, trend) in enumerate(zip(curves, trends)):
        inner = outer[i // ncols, i % ncols].subgridspec(2, 1, height_ratios=(2, 1), hspace=0.05)
        ax, ax_res = fig.add_subplot(inner[0]), fig.add_subplot(inner[1])
        ax_res.sharex(ax)
        plot_curve(curve, ax, markersize=markersize, legend=False, counts=False,
                   title=titles[i] if titles is not None else curve.label, xlabel="", ylabel="")
        grid = np.geomspace(np.min(curve.x), np.max(curve.x), 200)
        ax.plot(grid, trend(grid), color="black", lw=1.2, label="smooth trend", zorder=4)
        r = scale * (np.log(curve.loss) - np.log(trend(curve.x)))
        sd = float(np.std(r))
        ax_res.axhspan(-sd, sd, color="0.9", lw=0, zorder=0, label="±1 standard deviation")
        ax_res.axhline(0.0, color="black", lw=0.8)
        fit = np.asarray(curve.is_fit)
        ax_res.scatter(curve.x[fit], r[fit], s=markersize, color=COLORS["fit"], linewidths=0, zorder=3)
        ax_res.scatter(curve.x[~fit], r[~fit], s=markersize, color=COLORS["held_out"], linewidths=0, zorder=3)
        ax.tick_params(labelbottom=False, labelsize="x-small")
        ax_res.tick_params(labelsize="x-small")
        ax.title.set_fontsize("small")
        if i % ncols == 0:
            ax.set_ylabel(Y_LABELS.get(curve.domain, "loss"), fontsize="small")
            ax_res.set_ylabel("residual (%)" if percent else "log residual", fontsize="small")
        if i >= len(curves) - ncols:
            ax_res.set_xlabel(X_LABELS.get(curve.domain, "x"), fontsize="small")
        top_axes.append((ax, ax_res))
    handles, labels = [], []
    for a in top_axes[0]:
        h, l = a.get_legend_handles_labels()
        handles += h
        labels += l
    fig.legend(handles, labels, loc="outside upper center", ncol=len(labels), fontsize="small", frameon=False)
    return fig


def plot_noise_by_domain(table, value: str = "noise / improvement", *, ax=None, order=None,
                         highlight: str | None = "BB", ylabel: str | None = None, logy: bool = True):
    """One dot per learning curve, grouped by domain: how large ``value`` (a column of ``table``,
    e.g. from :func:`scaling.studies.lang.noise_table`) is in each domain."""
    ax = _new_ax(ax, figsize=(5.5, 3.6))
    order = list(order) if order is not None else [d for d in ("IC", "NMT", "LM", "BB")
                                                     if d in set(table["domain"])]
    palette = {d: (COLORS["held_out"] if d == highlight else COLORS["law"]) for d in order}
    sns.stripplot(data=table, x="domain", y=value, order=order, hue="domain", palette=palette,
                  legend=False, jitter=0.25, size=5, ax=ax)
    medians = table.groupby("domain")[value].median().reindex(order)
    ax.scatter(range(len(order)), medians.to_numpy(), marker="_", s=900, color="black", zorder=4,
               label="median")
    if logy:
        _log_axis(ax, "y")
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(LogFormatterSciNotation(labelOnlyBase=False))
    ax.set_xlabel("domain")
    ax.set_ylabel(ylabel or value)
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_paired_rmse(table, x: str, y: str, ax=None, *, hue: str = "domain",
                     xlabel: str | None = None, ylabel: str | None = None):
    """Scatter of two RMSE columns (one point per curve, log-log) with the diagonal y = x."""
    ax = _new_ax(ax, figsize=(5.0, 5.0))
    palette = dict(zip(sorted(table[hue].unique()), sns.color_palette("colorblind")))
    for name, part in table.groupby(hue, sort=False):
        ax.scatter(part[x], part[y], s=22, alpha=0.8, label=name, color=palette[name])
    lo = float(min(table[x].min(), table[y].min())) / 1.3
    hi = float(max(table[x].max(), table[y].max())) * 1.3
    ax.plot([lo, hi], [lo, hi], color="0.4", lw=1, ls="--", zorder=0)
    ax.set(xscale="log", yscale="log", xlim=(lo, hi), ylim=(lo, hi), xlabel=xlabel or x, ylabel=ylabel or y)
    ax.set_aspect("equal")
    ax.legend(title=hue, frameon=False)
    return ax
