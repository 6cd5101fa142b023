"""Figures of the image-classification chapters ("image classification" and "Appendix A.3"):
the law grids of Figures 1 (top), 5 and 10-23, the exponents of Figure 6 and the excess risk of
Figure 7 (computation: :mod:`scaling.studies.ic`), and the click-to-sort RMSE table.

Built on :mod:`scaling.report.plotting` (same style, palette and conventions); the win-fraction
bars are the shared :func:`scaling.report.plotting.plot_win_fractions`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..report.html import sortable_table_html as html_table
from ..report.plotting import (COLORS, EXTRAPOLATION_FACTOR, PALETTE, X_LABELS, finish_log_axes, law_color,
                               law_rmse, log_axis, page_width, panel_height, plot_fit, plot_zoom,
                               thin_crowded_ticks)
from ..report.tables import sci, winner_mask
from .ic import WIN_DECIMALS, rmse_table

__all__ = ["SIZE_COLORS", "plot_law_rows", "plot_exponents_by_shots", "plot_excess_risk_by_family",
           "sortable_table_html"]

#: Colours of the smaller and the larger model of an architecture family (Figures 6 and 7).
SIZE_COLORS = {"small": PALETTE[0], "large": PALETTE[3]}


def plot_law_rows(curves: Sequence, laws: Sequence[Mapping[str, object]], *,
                  row_labels: Sequence[str] | None = None,
                  winners: Sequence[Sequence[str]] | None = None,
                  panel_size: tuple[float, float] = (3.0, 2.2), markersize: float = 6,
                  factor: float = EXTRAPOLATION_FACTOR, suptitle: str | None = None,
                  ylim: tuple[float, float] | None = None, sharex: bool = False,
                  layout: str | None = "constrained", fontsize: str | float = "small",
                  zoom: bool = False):
    """A grid of fitted laws: one row per curve, one column per law (Figures 1, 5 and 10-23).

    ``laws[i]`` maps a column title (``'M1'`` ...) to the fitted law for ``curves[i]``; every row
    must use the same titles.  Each panel shows the curve (fitted points grey, held-out orange),
    the law drawn to ``factor`` x the last held-out x and its extrapolation RMSE (Eq. 6).
    ``winners[i]`` names the laws that win row ``i``; their RMSE is printed in bold on a
    highlighted box.  ``row_labels`` (default: the curves' labels) label the rows.  Panels of a
    row share the y axis; ``sharex=True`` shares the x axis of all panels as well, which labels
    the ticks of the bottom row only.  ``layout=None`` skips matplotlib's layout engine and
    places the panels with fixed margins: several times faster for large grids (the appendix).
    ``fontsize`` sets the size of tick labels, axis labels and the RMSE boxes.  ``zoom`` adds a
    last column with every law of the row over the held-out region (:func:`plot_zoom`), where
    the laws part ways.  The figure is at most the page's width (:func:`page_width`), so that it
    is shown at its own size; panels are at least 2 inches tall.
    """
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
    nrows, ncols = len(curves), len(titles) + (1 if zoom else 0)
    width = min(panel_size[0] * ncols, page_width())
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, max(panel_size[1], panel_height() + 0.2) * nrows + 0.8),
                             squeeze=False, sharey="none" if zoom else "row", sharex=sharex, layout=layout)
    for i, (curve, row) in enumerate(zip(curves, laws)):
        if zoom:
            for j in range(1, len(titles)):
                axes[i, j].sharey(axes[i, 0])
                axes[i, j].tick_params(labelleft=False)
            plot_zoom(curve, row, axes[i, -1], factor=factor, title="held-out region" if i == 0 else "",
                      legend=False)
            axes[i, -1].tick_params(labelsize=fontsize)
            axes[i, -1].set_xlabel("")
            axes[i, -1].set_ylabel("")
            if i == 0:
                axes[i, -1].title.set_fontsize("small")
        win = set(winners[i]) if winners is not None else set()
        for j, (name, law) in enumerate(row.items()):
            ax = axes[i, j]
            plot_fit(curve, law, ax, label=name, show_rmse=False, factor=factor, title=False,
                     legend=False, markersize=markersize, counts=False,
                     color=law_color(name, law_color(law)) if zoom else None)
            best = name in win
            # two lines keep the box inside a narrow panel (one line spilled over the y ticks)
            ax.text(0.97, 0.95, f"RMSE\n{sci(law_rmse(curve, law))}", transform=ax.transAxes,
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
    if zoom:  # each law has its colour: name them in the legend instead of "fitted law"
        keep = [k for k, lab in enumerate(labels) if lab != "fitted law"]
        handles, labels = [handles[k] for k in keep], [labels[k] for k in keep]
        handles += [plt.Line2D([], [], color=law_color(t), lw=2) for t in titles]
        labels += list(titles)
    handles.append(plt.Rectangle((0, 0), 1, 1, fc=COLORS["held_out"], ec="0.3"))
    labels.append("best RMSE in the row")
    if layout is None:
        width, height = fig.get_size_inches()
        top = 1.0 - (0.75 + (0.3 if suptitle else 0.0)) / height
        fig.subplots_adjust(left=0.75 / width, right=1.0 - 0.1 / width, bottom=0.55 / height, top=top,
                            wspace=0.08 if sharex else 0.15, hspace=0.12 if sharex else 0.35)
        fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 1.0 - (0.3 if suptitle else 0.0) / height),
                   ncol=min(len(labels), 4), fontsize="small", frameon=False, markerscale=2.5)
    else:
        fig.legend(handles, labels, loc="outside upper center", ncol=min(len(labels), 4), fontsize="small",
                   frameon=False, markerscale=2.5)
    fig.supxlabel(X_LABELS.get(curves[0].domain, "x"), fontsize=fontsize)
    if zoom:  # a narrow zoom column: fewer ticks where "1.5 x 10^9" and "3 x 10^9" would meet
        thin_crowded_ticks(fig, axes[:, -1])
    if suptitle and layout is None:  # in the 0.3 inch kept for it above the legend
        fig.suptitle(suptitle, y=1.0 - 0.04 / fig.get_size_inches()[1], va="top")
    elif suptitle:
        fig.suptitle(suptitle)
    return fig


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
                             figsize=(min(panel_size[0] * len(families), page_width()),
                                      max(panel_size[1], 2.2) * len(laws)),
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
            ax.tick_params(labelsize="small")
            if j == 0:
                ax.set_ylabel("exponent c", fontsize="small")
            if i == len(laws) - 1:
                ax.set_xlabel("shots (ImageNet)", fontsize="small")
            ax.legend(loc="best", fontsize="small", handletextpad=0.3, borderpad=0.3)
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
    fig, axes = plt.subplots(1, len(fams), squeeze=False, figsize=(min(panel_size[0] * len(fams), page_width()),
                                                                  max(panel_size[1], 2.6)),
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
        log_axis(ax, "x")
        log_axis(ax, "y")
        if xlim is not None:
            ax.set_xlim(*xlim)
        lo = points.loc[points["family"] == fam, "excess"].min()
        hi = points.loc[points["family"] == fam, "excess"].max()
        ax.set_ylim(lo / 2, hi * 1.5)
        ax.set_title(fam, fontsize="small")
        ax.set_xlabel(X_LABELS["IC"], fontsize="small")
        ax.tick_params(labelsize="small")
        ax.legend(loc="lower left", fontsize="small", title=f"{law_name} power law",
                  title_fontsize="small")
        finish_log_axes(ax)
    axes[0, 0].set_ylabel(r"excess error $\varepsilon_x - \hat\varepsilon_\infty$", fontsize="small")
    return fig


def sortable_table_html(results, table_id: str = "ic-rmse-table", caption: str | None = None) -> str:
    """The per-curve RMSE table (:func:`scaling.studies.ic.rmse_table`) as self-contained HTML:
    click a header to sort by that column (:func:`scaling.report.html.sortable_table_html`).

    Numbers are in the paper's notation (:func:`scaling.report.tables.sci`), the winner of each row is
    bold and named in the last column.
    """
    table = rmse_table(results)
    laws = [c for c in table.columns if c != "winner"]
    wins = winner_mask(table[laws], rule="best", decimals=WIN_DECIMALS)
    index = table.index.to_frame(index=False)[["dataset", "shots", "model"]]
    values = table[laws].reset_index(drop=True)
    cells = pd.concat([index, values.map(sci), table[["winner"]].reset_index(drop=True)], axis=1)
    keys = pd.concat([index, values.map(lambda v: f"{v:.6e}" if np.isfinite(v) else "1"),
                      table[["winner"]].reset_index(drop=True)], axis=1)
    bold = pd.concat([pd.DataFrame(False, index=index.index, columns=index.columns),
                      wins.reset_index(drop=True),
                      pd.DataFrame(False, index=index.index, columns=["winner"])], axis=1)
    return html_table(cells, table_id=table_id, sort_keys=keys, numeric=["shots", *laws],
                      left=["dataset", "model"], bold=bold, caption=caption)
