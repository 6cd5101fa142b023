"""The figure of ``python -m scaling fit``: a user's curve, each law's fit and its bootstrap band."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from ..report import plotting
from ..laws.paper import LAWS

__all__ = ["plot_user_fit", "plot_user_fit_panels", "save_user_fit_plot"]

# Laws without a colour in the book's palette (the later ones) take these, in order.
_SPARE_COLORS = ("tab:red", "tab:purple", "tab:olive", "tab:cyan")
# Line style and width per law, so that laws which coincide (M4 with alpha = 0 is M2) stay visible:
# wide lines below, thin ones on top.
_LINES = {"M1": ("-", 3.2), "M2": ("--", 2.2), "M3": ("-.", 1.8), "M4": ("-", 1.3),
          "BNSL": (":", 2.4), "Chinchilla": ((0, (6, 2, 1, 2)), 1.8)}


def _colors(names) -> dict:
    """One colour per law, the same in every figure: the book's for M1-M4, spare ones for the later
    laws in the order they were registered."""
    later = [name for name in LAWS if name not in plotting.LAW_COLORS]
    spare = {name: _SPARE_COLORS[i % len(_SPARE_COLORS)] for i, name in enumerate(later)}
    return {name: plotting.LAW_COLORS.get(name) or spare.get(name, "0.3") for name in names}


def plot_user_fit(result, ax=None, *, laws=None, num: int = 200, band: bool = True, title: str | None = None):
    """Log-log plot of a :class:`scaling.userfit.UserFit`: fitted points grey, held-out orange,
    one line per law from the smallest x to the largest prediction point, its bootstrap
    percentile band shaded, and the prediction points marked by dotted vertical lines.
    """
    names = list(result.fits) if laws is None else [n for n in laws if n in result.fits]
    if not names:
        raise ValueError(f"none of the laws {laws} was fitted; choose among {list(result.fits)}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 4.5), layout="constrained")
    x_end = max(float(np.max(result.at)), float(result.curve.x[-1]))
    grid = np.geomspace(result.curve.x[0], x_end, num)
    colors = _colors(names)
    for name in names:
        fit = result.fits[name]
        label = name if fit.rmse is None else f"{name}, holdout RMSE {fit.rmse:.2g}"
        style, width = _LINES.get(name, (":", 2.0))
        ax.plot(grid, fit.law.predict(grid), color=colors[name], ls=style, lw=width, label=label, zorder=2)
        if band and fit.n_ok >= 2:
            lo, hi = fit.band(grid)
            ax.fill_between(grid, lo, hi, color=colors[name], alpha=0.18, lw=0, zorder=1)
    ax.scatter(result.x_fit, result.loss_fit, s=18, color=plotting.COLORS["fit"], zorder=3, linewidths=0,
               label=f"fitted ({result.n_fit})")
    if result.x_test.size:
        ax.scatter(result.x_test, result.loss_test, s=18, color=plotting.COLORS["held_out"], zorder=3,
                   linewidths=0, label=f"held out ({result.x_test.size})")
    if x_end > result.curve.x[-1]:  # beyond the data: extrapolation
        ax.axvspan(result.curve.x[-1], x_end, color="0.94", zorder=0, lw=0)
    for a in result.at:
        ax.axvline(a, color="0.6", ls=":", lw=1, zorder=0)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(result.curve.x_column)
    ax.set_ylabel(result.curve.loss_column)
    level = f"{100 * result.level:g}%"
    ax.set_title(title if title is not None else f"{Path(result.curve.source).name}: fits with {level} "
                                                 "bootstrap bands")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_user_fit_panels(results, x, loss, *, panel_size=(4.0, 3.8)):
    """One :func:`plot_user_fit` panel per fit, side by side, with the curve's points that a fit
    did not see drawn as crosses.

    ``results`` maps a number ``k`` of leading points to the fit made on ``x[:k], loss[:k]``; only
    the first panel keeps its legend and y label.
    """
    if not results:
        raise ValueError("nothing to plot: results is empty; pass {k: fit_user_curve(x[:k], loss[:k], ...)}.")
    x, loss = np.asarray(x, float), np.asarray(loss, float)
    # at most the page's width, so that the figure is shown at its own size (readable text)
    nrows, ncols, figsize = plotting.page_grid_size(len(results), len(results), panel_size)
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, sharey=True, layout="constrained", squeeze=False)
    for ax in axes.flat[len(results):]:
        ax.set_visible(False)
    for i, (ax, (k, res)) in enumerate(zip(axes.flat, results.items())):
        plot_user_fit(res, ax=ax, title=f"first {k} points")
        ax.scatter(x[k:], loss[k:], marker="x", color=plotting.COLORS["held_out"], zorder=4)
        if i:
            ax.get_legend().remove()
            ax.set_ylabel("")
    return fig


def save_user_fit_plot(result, path, **kwargs) -> Path:
    """Draw :func:`plot_user_fit` in the book's style and save it (format from the file extension)."""
    path = Path(path)
    plotting.set_style()
    ax = plot_user_fit(result, **kwargs)
    path.parent.mkdir(parents=True, exist_ok=True)
    ax.figure.savefig(path)
    plt.close(ax.figure)
    return path
