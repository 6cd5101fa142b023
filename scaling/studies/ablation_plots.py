"""Figures of Appendix A.1, fixed versus learned alpha (computation: :mod:`scaling.studies.ablation`).

Built on :mod:`scaling.report.plotting` (same style, palette and conventions).
"""

from __future__ import annotations

import seaborn as sns

from ..report.plotting import new_ax

__all__ = ["plot_paired_rmse"]


def plot_paired_rmse(table, x: str, y: str, ax=None, *, hue: str = "domain",
                     xlabel: str | None = None, ylabel: str | None = None):
    """Scatter of two RMSE columns (one point per curve, log-log) with the diagonal y = x."""
    ax = new_ax(ax, figsize=(5.0, 5.0))
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
