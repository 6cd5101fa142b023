"""Figures of the leaderboard chapter: win fractions under several rules, pairwise heatmaps, intervals.

They draw what :mod:`scaling.studies.leaderboard` computes and follow the book's style
(:func:`scaling.report.plotting.set_style`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import MaxNLocator

from ..report import plotting
from .leaderboard import POOLED

__all__ = ["LAW_COLORS", "plot_rule_wins", "plot_pairwise_heatmaps", "plot_difference_intervals", "plot_fit_contrast"]


def plot_rule_wins(rankings: pd.DataFrame, reference: pd.DataFrame | None = None, *,
                   reference_label: str = "paper (Figure 1)", ncols: int = 2,
                   panel_size: tuple[float, float] = (5.6, 3.0)):
    """One panel per domain: a group of bars per law, one bar per win-rule variant.

    ``rankings`` is the frame of :func:`scaling.studies.leaderboard.rule_rankings`; ``reference``
    (optional) has one row per domain and one column per law (missing laws are left empty) and
    is drawn hatched, labelled ``reference_label``.
    """
    needed = {"domain", "law", "variant", "win_fraction"}
    if not needed <= set(rankings.columns):
        raise ValueError(f"rankings lack column(s) {sorted(needed - set(rankings.columns))}; "
                         "pass the frame of rule_rankings().")
    domains = list(dict.fromkeys(rankings["domain"]))
    laws = list(dict.fromkeys(rankings["law"]))
    variants = list(dict.fromkeys(rankings["variant"]))
    nrows = int(np.ceil(len(domains) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(min(panel_size[0] * ncols, plotting.page_width()),
                                                    max(panel_size[1], 2.4) * nrows),
                             sharey=True, squeeze=False)
    for ax, domain in zip(axes.flat, domains):
        part = rankings[rankings["domain"] == domain]
        table = part.pivot(index="variant", columns="law", values="win_fraction").reindex(
            index=variants, columns=laws)
        if reference is not None and domain in reference.index:
            ref = reference.loc[[domain]].reindex(columns=laws).rename(index={domain: reference_label})
            table = pd.concat([ref, table])
        plotting.plot_win_fractions(table, ax=ax, reference=reference_label if reference is not None else None,
                                    annotate=False, title=domain)
        ax.set_ylim(0, 1.05)
        ax.tick_params(axis="x", labelsize="small")
    for ax in axes.flat[len(domains):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    for ax in axes.flat[:len(domains)]:
        ax.get_legend().remove()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 3), fontsize="small",
               bbox_to_anchor=(0.5, 0.0))
    fig.tight_layout(rect=(0, 0.09, 1, 1))
    return fig


def plot_pairwise_heatmaps(matrices: Mapping[str, pd.DataFrame], *, ncols: int = 2,
                           panel_size: tuple[float, float] = (3.9, 3.3), fmt: str = ".2f",
                           cbar_label: str = "P(row beats column)"):
    """Heatmaps of law x law matrices (one panel per title), 0.5 in white, diagonal blank.

    Each matrix comes from :func:`scaling.studies.leaderboard.pairwise_matrix` with a probability
    (``p_more_wins`` or ``p_lower_mean``): blue cells say the row law beats the column law.
    """
    if not matrices:
        raise ValueError("no matrices to draw; pass {title: pairwise_matrix(...)}.")
    n = len(matrices)
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(min(panel_size[0] * ncols, plotting.page_width()),
                                                    max(panel_size[1], 3.0) * nrows),
                             squeeze=False)
    cmap = sns.diverging_palette(20, 240, as_cmap=True)
    for k, (ax, (title, matrix)) in enumerate(zip(axes.flat, matrices.items())):
        sns.heatmap(matrix.astype(float), ax=ax, vmin=0, vmax=1, center=0.5, cmap=cmap, annot=True, fmt=fmt,
                    annot_kws={"fontsize": "small"}, square=True, cbar=k == n - 1,
                    cbar_kws={"label": cbar_label, "shrink": 0.8}, linewidths=0.5, linecolor="white")
        ax.grid(False)
        ax.set_title(title)
        ax.set_xlabel("B (column)" if k // ncols == nrows - 1 else "")
        ax.set_ylabel("A (row)" if k % ncols == 0 else "")
        ax.tick_params(labelsize="small")
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def plot_difference_intervals(tables: Mapping[str, pd.DataFrame], law: str, *,
                              domains: Sequence[str] | None = None, ncols: int = 5,
                              panel_size: tuple[float, float] = (2.6, 2.9)):
    """Mean RMSE difference ``law`` - opponent with its bootstrap interval, per domain and scheme.

    ``tables`` maps a label (e.g. the resampling scheme) to a frame of
    :func:`scaling.studies.leaderboard.pairwise_table`; each gets its own colour and vertical offset.
    Left of the dashed zero line, ``law`` extrapolates better on average.
    """
    if not tables:
        raise ValueError("no tables to draw; pass {label: pairwise_table(...)}.")
    first = next(iter(tables.values()))
    if law not in set(first["law_a"]):
        raise ValueError(f"law {law!r} is not in the tables; they hold {sorted(set(first['law_a']))}.")
    domains = list(domains) if domains is not None else list(dict.fromkeys(first["domain"]))
    opponents = [b for b in dict.fromkeys(first["law_a"]) if b != law]  # the laws in the order given
    nrows, ncols, figsize = plotting.page_grid_size(len(domains), ncols, panel_size)
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, sharey=True, squeeze=False)
    palette = sns.color_palette("colorblind", len(tables))
    offsets = np.linspace(-0.25, 0.25, len(tables)) if len(tables) > 1 else [0.0]
    y = np.arange(len(opponents))
    for ax, domain in zip(axes.flat, domains):
        for (label, table), color, dy in zip(tables.items(), palette, offsets):
            part = table[(table["domain"] == domain) & (table["law_a"] == law)].set_index("law_b").reindex(opponents)
            mid = part["mean_diff"].to_numpy(dtype=float)
            err = np.vstack([mid - part["diff_lo"].to_numpy(dtype=float), part["diff_hi"].to_numpy(dtype=float) - mid])
            ax.errorbar(mid, y + dy, xerr=np.clip(err, 0, None), fmt="o", ms=3.5, color=color, capsize=2,
                        lw=1.2, label=label)
        ax.axvline(0, color="0.3", ls="--", lw=0.8)
        ax.set_title(domain if domain != POOLED else "all curves")
        ax.set_xlabel(f"RMSE({law}) − RMSE(B)", fontsize="small")
        ax.tick_params(labelsize="small")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
        ax.set_yticks(y, opponents)
    axes.flat[0].invert_yaxis()  # shared y: the first opponent on top in every panel
    for ax in axes.flat[len(domains):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize="small", bbox_to_anchor=(0.5, 0.0))
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    plotting.thin_crowded_ticks(fig, axes.flat[:len(domains)])  # "-0.075-0.050" ran together
    return fig


#: Colours of the six laws: the book's, shared by every chapter.
LAW_COLORS = plotting.LAW_COLORS


def plot_fit_contrast(curves: Sequence, fits: Sequence[Mapping[str, object]], *,
                      titles: Sequence[str] | None = None, panel_size: tuple[float, float] = (4.6, 3.4)):
    """Learning curves side by side, each with several fitted laws drawn past the data.

    ``fits[i]`` maps a label starting with a law name (which picks its colour) to a fitted law
    for ``curves[i]``; a second fit of the same law in a panel is drawn dashed.  The grey band marks
    the region beyond the last measured point.
    """
    curves = list(curves)
    if len(fits) != len(curves):
        raise ValueError(f"got {len(fits)} sets of fits for {len(curves)} curves; pass one mapping per curve.")
    nrows, ncols, figsize = plotting.page_grid_size(len(curves), len(curves), panel_size)
    # each panel's legend goes under it, where it hides no data: room for up to five entries
    rows = 2 + max((len(laws) for laws in fits), default=0)
    figsize = (figsize[0], figsize[1] + nrows * 0.19 * (rows + 1))
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False)
    for ax in axes.flat[len(curves):]:
        ax.set_visible(False)
    for i, (ax, curve, laws) in enumerate(zip(axes.flat, curves, fits)):
        plotting.plot_curve(curve, ax, legend=False, counts=False,
                            title=titles[i] if titles is not None else curve.label)
        x = plotting.extrapolation_grid(curve)
        drawn = set()
        for label, law in laws.items():
            name = str(label).split()[0].rstrip(",:")
            color = LAW_COLORS.get(name, "0.3")
            ax.plot(x, law.predict(x), color=color, lw=1.8, label=label, zorder=2,
                    ls="--" if name in drawn else "-")
            drawn.add(name)
        ax.axvspan(np.max(curve.x), x.max(), color="0.93", zorder=0, lw=0)
        ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.3), frameon=False)
        ax.title.set_fontsize("small")
    plotting.wrap_wide_titles(fig, axes.flat)
    fig.tight_layout()
    return fig
