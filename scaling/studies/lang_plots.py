"""Figures of the language chapters (machine translation, language modelling, BIG-Bench;
computation: :mod:`scaling.studies.lang`): the Figure 1 bars of one domain with room for their
labels, overlays of several laws per curve, the law-by-curve grid of Figure 8, the Figure 9
exponents (one row, or a grid of panels), and the trend residuals and noise of BIG-Bench; and the
chapters' styled tables (ours beside the paper, the ledger view, the trials of M1, the causes of
the differences), from the frames of :mod:`scaling.studies.lang`.

All build on :mod:`scaling.report.plotting` and :mod:`scaling.report.tables` (same style, palette
and conventions).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.ticker import LogFormatterSciNotation, LogLocator

from ..benchmark.catalogue import PAPER_LAWS
from ..report import plotting
from ..report.plotting import (COLORS, EXTRAPOLATION_FACTOR, LAW_COLORS, X_LABELS, Y_LABELS, extrapolation_grid,
                               figure_legend, finish_log_axes, hide_inner_labels, law_rmse, log_axis, new_ax,
                               page_width, panel_grid, panel_height, plot_curve, plot_fit, wrap_wide_titles)
from ..report.tables import DENSE_STYLES, STATUS_STYLE, compact
from . import lang as xl

__all__ = ["plot_domain_bars", "plot_exponent_panels", "plot_overlay_grid", "plot_law_matrix", "plot_exponents",
           "plot_trend_residuals", "plot_noise_by_domain",
           "side_by_side", "style_ledger_view", "trial_table", "style_causes"]


def plot_domain_bars(bars, reference: str = "paper (Figure 1)", ax=None, *,
                     ylabel: str = "share of rows won", title: str | None = None):
    """The bars of one domain of Figure 1 (bottom): one group per law, one bar per row of ``bars``
    (e.g. :func:`scaling.studies.lang.figure1_bars`), the ``reference`` row hatched.

    :func:`scaling.report.plotting.plot_win_fractions` with the y axis extended above 1 and the legend
    moved above the panel, so that neither hides the value written over each bar.
    """
    ax = plotting.plot_win_fractions(bars, ax=ax, reference=reference, ylabel=ylabel, title=title)
    ax.set_ylim(0, 1.12)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=min(len(bars.index), 3), fontsize="small",
              frameon=False)
    return ax


def plot_exponent_panels(x, series: Mapping[str, Mapping[str, Sequence[float]]], *,
                         laws: Sequence[str] = ("M1", "M2", "M3", "M4"), ncols: int = 2,
                         xlabel: str = "model size (parameters)", ylabel: str = "exponent c",
                         panel_size: tuple[float, float] = (3.6, 2.9)):
    """The fitted exponent against a model property, one panel per law in a grid of ``ncols``
    columns (the paper's Figure 9 has one row; two columns keep each panel legible on a page).

    ``series[label][law]`` holds one exponent per value of ``x``; a label starting with
    ``'paper'`` is drawn in black with crosses and a dashed line. The x axis is logarithmic.
    Each panel has its own y range: the laws' exponents differ by an order of magnitude.
    """
    x = np.asarray(x, dtype=float)
    laws = list(laws)
    nrows = int(np.ceil(len(laws) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(min(panel_size[0] * ncols, page_width()),
                                                    max(panel_size[1], 2.4) * nrows),
                             squeeze=False, layout="constrained")
    palette = sns.color_palette("colorblind")
    markers = ["o", "s", "^", "D", "v"]
    for ax, law in zip(axes.flat, laws):
        k = 0
        for label, values in series.items():
            if law not in values:
                continue
            if str(label).startswith("paper"):
                ax.plot(x, np.asarray(values[law], float), color="black", marker="x", ms=6, ls="--",
                        lw=1.2, label=label, zorder=3)
            else:
                ax.plot(x, np.asarray(values[law], float), color=palette[k % len(palette)],
                        marker=markers[k % len(markers)], ms=4.5, lw=1.5, label=label, zorder=2)
                k += 1
        ax.set_xscale("log")
        ax.set_title(law)
        ax.tick_params(labelsize="small")
    for ax in axes.flat[len(laws):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel, fontsize="small")
    for ax in axes[-1, :]:
        ax.set_xlabel(xlabel, fontsize="small")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncol=min(len(labels), 4), fontsize="small",
               frameon=False)
    return fig


# Overlays give each law its colour of LAW_COLORS (the same in every figure of the book) and a line
# style and width that keep coinciding laws visible (M1 wide below, M4 thin on top).
_OVERLAY_COLORS = LAW_COLORS
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
    fig, axes = panel_grid(len(curves), ncols, panel_size)
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
        ax.tick_params(labelsize="small")
        ax.xaxis.label.set_fontsize("small")
        ax.yaxis.label.set_fontsize("small")
        hide_inner_labels(ax, i, len(curves), ncols_used)
        finish_log_axes(ax)
    wrap_wide_titles(fig, axes[:len(curves)])
    figure_legend(fig, axes[0], ncol=6)
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
    fig, axes = plt.subplots(nrows, ncols, figsize=(min(panel_size[0] * ncols, page_width()),
                                                    max(panel_size[1], panel_height()) * nrows + 0.6),
                             sharey="row", squeeze=False, layout="constrained")
    for i, (curve, laws) in enumerate(zip(curves, fits)):
        for j, name in enumerate(names):
            ax, law = axes[i, j], laws[name]
            plot_fit(curve, law, ax, label=f"RMSE {law_rmse(curve, law):.1e}", factor=factor,
                     title=name if i == 0 else None, legend=False, markersize=markersize)
            ax.legend(handles=ax.get_lines()[-1:], loc="upper right", fontsize="small",
                      handlelength=1.0, borderpad=0.3)
            ax.tick_params(labelsize="small")
            ax.set_ylabel(((row_labels[i] if row_labels is not None else curve.model) if j == 0 else ""),
                          fontsize="small")
            ax.set_xlabel(X_LABELS.get(curve.domain, "x") if i == nrows - 1 else "", fontsize="small")
            finish_log_axes(ax)
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
    fig, axes = panel_grid(len(laws), len(laws), panel_size)
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
            log_axis(ax, "x")
        ax.set_title(law)
        ax.set_xlabel(xlabel, fontsize="small")
        ax.tick_params(labelsize="small")
    axes[0].set_ylabel(ylabel)
    figure_legend(fig, axes[0], ncol=len(series))
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
    nrows, ncols, figsize = plotting.page_grid_size(len(curves), ncols, (panel_size[0], max(panel_size[1], 1.5 * panel_height() + 0.9)))
    fig = plt.figure(figsize=figsize, layout="constrained")
    outer = fig.add_gridspec(nrows, ncols)
    scale = 100.0 if percent else 1.0
    top_axes = []
    for i, (curve, trend) in enumerate(zip(curves, trends)):
        inner = outer[i // ncols, i % ncols].subgridspec(2, 1, height_ratios=(2, 1), hspace=0.05)
        ax, ax_res = fig.add_subplot(inner[0]), fig.add_subplot(inner[1], label="strip")
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
        ax.tick_params(labelbottom=False, labelsize="small")
        ax_res.tick_params(labelsize="small")
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
    ax = new_ax(ax, figsize=(5.5, 3.6))
    order = list(order) if order is not None else [d for d in ("IC", "NMT", "LM", "BB")
                                                     if d in set(table["domain"])]
    palette = {d: (COLORS["held_out"] if d == highlight else COLORS["law"]) for d in order}
    sns.stripplot(data=table, x="domain", y=value, order=order, hue="domain", palette=palette,
                  legend=False, jitter=0.25, size=5, ax=ax)
    medians = table.groupby("domain")[value].median().reindex(order)
    ax.scatter(range(len(order)), medians.to_numpy(), marker="_", s=900, color="black", zorder=4,
               label="median")
    if logy:
        log_axis(ax, "y")
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(LogFormatterSciNotation(labelOnlyBase=False))
    ax.set_xlabel("domain")
    ax.set_ylabel(ylabel or value)
    ax.legend(loc="best", fontsize="small")
    return ax


# --- Styled tables ----------------------------------------------------------------------------

def side_by_side(results, domain: str, caption: str | None = None,
                 ours_label: str = "ours", rule: str | None = None, status: bool = False):
    """Our table(s) and the paper's in the paper's notation, winners in bold (a pandas Styler).

    The cells of :func:`scaling.studies.lang.side_by_side_frames` (see there for ``results``,
    ``ours_label`` and ``rule``). ``status=True`` colours each of our cells by its ledger status
    against the paper (green reproduced, amber within error, red differs).
    """
    cells, bold, statuses = xl.side_by_side_frames(results, domain, ours_label=ours_label, rule=rule,
                                                   status=status)
    css = np.where(bold.to_numpy(), "font-weight: bold", "")
    colours = statuses.map(lambda s: STATUS_STYLE.get(s, "")).to_numpy()
    css = np.array([[";".join(x for x in (a, b) if x) for a, b in zip(ra, rb)] for ra, rb in zip(css, colours)])
    styler = compact(cells.style.apply(lambda _: css, axis=None), caption)
    lines = len(dict.fromkeys(cells.index.get_level_values(1)))
    return styler.set_table_styles(DENSE_STYLES, overwrite=False) if lines > 2 and domain != "NMT" else styler


def style_ledger_view(view, caption: str | None = None):
    """Colour the status cells of a :func:`scaling.studies.lang.ledger_view` (green reproduced,
    amber within error, red differs)."""
    status_cols = [c for c in view.columns if c in ("status", "± status")]
    styler = view.style.map(lambda s: STATUS_STYLE.get(s, ""), subset=status_cols)
    return compact(styler, caption)


def trial_table(trials, domain: str = "LM", law: str = "M1"):
    """One law's extrapolation error under several variants of the data
    (:func:`scaling.studies.lang.trial_frames`), each of our cells coloured by its
    :func:`scaling.ledger.compare` status. Returns a pandas Styler."""
    cells, status = xl.trial_frames(trials, domain, law)
    return compact(cells.style.apply(lambda _: status.map(lambda v: STATUS_STYLE.get(v, "")).to_numpy(),
                                     axis=None))


def style_causes(causes, caption: str | None = None):
    """A :func:`scaling.studies.lang.difference_causes` table for the page
    (:func:`scaling.studies.lang.causes_view`). Returns a compact pandas Styler."""
    view = xl.causes_view(causes)
    styler = view.style.hide(axis="index").format("{:+.1f}", subset=["units"]).format("{:.2f}", subset=["ratio"])
    wrap = [{"selector": "td", "props": "white-space: normal; min-width: 6rem;"}]
    return compact(styler, caption).set_table_styles({"row": wrap, "cause": wrap}, overwrite=False)
