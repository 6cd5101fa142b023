"""Figures of the language chapters (machine translation, language modelling, BIG-Bench) that
:mod:`scaling.report.plotting` does not draw in the needed layout: the Figure 1 bars of one domain with
room for their labels, and the Figure 9 exponents as a grid of panels.

Both build on :mod:`scaling.report.plotting` (same style, palette and conventions).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from ..report import plotting

__all__ = ["plot_domain_bars", "plot_exponent_panels"]


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
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(bars.index), fontsize="x-small",
              frameon=False)
    return ax


def plot_exponent_panels(x, series: Mapping[str, Mapping[str, Sequence[float]]], *,
                         laws: Sequence[str] = ("M1", "M2", "M3", "M4"), ncols: int = 2,
                         xlabel: str = "model size (parameters)", ylabel: str = "exponent c",
                         panel_size: tuple[float, float] = (3.6, 2.6)):
    """The fitted exponent against a model property, one panel per law in a grid of ``ncols``
    columns (the paper's Figure 9 has one row; two columns keep each panel legible on a page).

    ``series[label][law]`` holds one exponent per value of ``x``; a label starting with
    ``'paper'`` is drawn in black with crosses and a dashed line. The x axis is logarithmic.
    Each panel has its own y range: the laws' exponents differ by an order of magnitude.
    """
    x = np.asarray(x, dtype=float)
    laws = list(laws)
    nrows = int(np.ceil(len(laws) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size[0] * ncols, panel_size[1] * nrows),
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
        ax.tick_params(labelsize="x-small")
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
