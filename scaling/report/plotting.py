"""The book's figure style: one function per kind of figure.

Every chapter draws through these functions, so a reader adapting a cell needs three lines
(load a curve, fit a law, plot it) and every figure in the book looks the same:

* seaborn ``whitegrid`` style with the ``colorblind`` palette (:func:`set_style`);
* points used for fitting are grey, held-out points are orange;
* a fitted law is a line in its colour of :data:`LAW_COLORS` from the smallest x to three times the largest held-out x
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
from matplotlib.ticker import FixedLocator, LogFormatterSciNotation, LogLocator, MaxNLocator, NullLocator
import seaborn as sns


__all__ = [
    "PALETTE", "COLORS", "LAW_COLORS", "X_LABELS", "Y_LABELS", "EXTRAPOLATION_FACTOR",
    "set_style", "extrapolation_grid", "label_axes",
    "plot_curve", "plot_fit", "plot_zoom", "plot_curves", "plot_law_grid", "plot_functions", "plot_profile",
    "plot_profile_2d", "plot_win_fractions",
    # building blocks of the figures in scaling/studies/<family>_plots.py
    "new_ax", "page_grid_size", "MIN_PANEL_WIDTH", "log_axis", "finish_log_axes", "hide_inner_labels", "panel_grid", "figure_legend",
    "law_rmse",
    # how a figure reads on the built site
    "CONTENT_WIDTH_PX", "MIN_PANEL_PX", "MIN_FONT_PT", "display_scale", "readability_problems", "crowded_tick_labels", "thin_crowded_ticks",
    "wrap_wide_titles",
    "page_width", "panel_height", "law_color", "sequence_colors", "add_zoom",
]

#: The seaborn ``colorblind`` palette every figure draws from.
PALETTE = sns.color_palette("colorblind")

#: Colours of the three kinds of marks in every figure.
COLORS = {"fit": "0.55", "held_out": PALETTE[1], "law": PALETTE[0]}
#: One colour per law, used wherever the book draws a law (so M2 is the same purple everywhere).
#: M3 is a dark brown: the palette's tan sits too close to the grey fitted points and the orange
#: held-out points.
LAW_COLORS = {"M1": PALETTE[2], "M2": PALETTE[4], "M3": "#8c510a", "M4": PALETTE[0],
              # the later laws (chapters "Beyond the paper"): BNSL near-black (the palette's vermilion
              # sat next to the orange held-out points); Chinchilla is M2's form, so a darker purple
              "BNSL": "#262626", "Chinchilla": "#6a3d9a"}



def law_color(law_or_name, default=None):
    """The colour of a law (a fitted law or a label starting with its name: 'M4', 'M4, local')."""
    name = law_or_name if isinstance(law_or_name, str) else getattr(law_or_name, "name", "")
    name = str(name).split()[0].rstrip(",:") if str(name).strip() else ""
    return LAW_COLORS.get(name, COLORS["law"] if default is None else default)


def sequence_colors(n: int) -> list:
    """``n`` clearly distinct colours for an ordered series that is not a law (subset sizes,
    model sizes ...): viridis from dark blue to yellow-green, without its faint yellow end."""
    return [tuple(c) for c in plt.get_cmap("viridis")(np.linspace(0.0, 0.85, max(n, 1)))][:max(n, 0)]


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


#: The width of the book's content column on the built site, in CSS pixels (750-800 px).
CONTENT_WIDTH_PX = 780
#: Every panel of a figure is at least this tall on the site, in CSS pixels.
MIN_PANEL_PX = 180
#: Every tick label, axis label, title and legend entry is at least this large on the site, in pt.
MIN_FONT_PT = 8.0


def page_width(dpi: float | None = None) -> float:
    """The content width in inches at ``dpi`` (default: the current ``figure.dpi``): a figure at
    most this wide is shown at its own size, never shrunk (the book's grids are drawn this wide)."""
    return CONTENT_WIDTH_PX / float(dpi or plt.rcParams["figure.dpi"])


def panel_height(dpi: float | None = None) -> float:
    """The least height in inches of a row of panels at ``dpi`` (default: the current
    ``figure.dpi``): :data:`MIN_PANEL_PX` for the panel plus 0.6 inch for its ticks and title."""
    return MIN_PANEL_PX / float(dpi or plt.rcParams["figure.dpi"]) + 0.6


def _tight_width_inches(fig) -> float:
    renderer = fig.canvas.get_renderer()
    return float(fig.get_tightbbox(renderer).width)


def display_scale(fig, width_px: float = CONTENT_WIDTH_PX) -> float:
    """CSS pixels per inch of ``fig`` as the built book shows it.

    The assumptions (those of Jupyter Book 1.x with the inline backend): the notebook stores the
    figure as a PNG of its tight bounding box at ``fig.dpi`` pixels per inch (a retina PNG has
    twice the pixels and half the declared size, which shows the same); the page shows one PNG
    pixel as one CSS pixel, shrunk to the content column (``max-width: 100%``) when wider. A CSS
    pixel is 1/96 inch, so an ``f``-pt text is shown at ``f * display_scale(fig) / 96`` pt.
    """
    dpi = float(fig.dpi)
    return dpi * min(1.0, width_px / (_tight_width_inches(fig) * dpi))


def _texts(ax):
    """(kind, Text) of every visible, non-empty text of ``ax`` a reader must read."""
    ax_texts = [("tick label", t) for axis in (ax.xaxis, ax.yaxis) for t in axis.get_ticklabels()]
    ax_texts += [("axis label", ax.xaxis.label), ("axis label", ax.yaxis.label), ("title", ax.title)]
    legend = ax.get_legend()
    if legend is not None and legend.get_visible():
        ax_texts += [("legend", t) for t in legend.get_texts()]
    # numbers written into a panel: bar values, heatmap cells, RMSE boxes
    ax_texts += [("annotation", t) for t in ax.texts]
    return [(kind, t) for kind, t in ax_texts if t.get_visible() and t.get_text().strip()]


def crowded_tick_labels(ax) -> bool:
    """Whether two neighbouring x tick labels of ``ax`` overlap (the figure must have been drawn)."""
    renderer = ax.figure.canvas.get_renderer()
    boxes = sorted((t.get_window_extent(renderer) for t in ax.get_xticklabels()
                    if t.get_visible() and t.get_text().strip()), key=lambda b: b.x0)
    return any(a.x1 > b.x0 + 0.5 for a, b in zip(boxes, boxes[1:]))


def thin_crowded_ticks(fig, axes, nbins: int = 4) -> None:
    """Give every panel of ``axes`` whose x tick labels overlap fewer ticks (down to two bins):
    narrow panels with long labels such as ``-0.075``."""
    crowded = list(axes)
    for bins in range(nbins, 1, -1):
        fig.canvas.draw()
        crowded = [ax for ax in crowded if crowded_tick_labels(ax)]
        if not crowded:
            return
        for ax in crowded:
            ax.xaxis.set_major_locator(MaxNLocator(nbins=bins - 1))


def wrap_wide_titles(fig, axes) -> None:
    """Break a panel title wider than its panel onto two lines, before " (" or after the last ", "
    (the curve labels of a grid of narrow panels, such as "ImageNet 10-shot (ViT/B/16)")."""
    renderer = fig.canvas.get_renderer()  # text widths need no drawing of the figure
    rows, line = set(), 0.0
    for ax in axes:
        text = ax.title.get_text()
        if not ax.get_visible() or "\n" in text or not text.strip():
            continue
        if ax.title.get_window_extent(renderer).width <= ax.get_window_extent(renderer).width:
            continue
        if " (" in text:
            ax.set_title(text.replace(" (", "\n(", 1))
        elif ", " in text:
            head, tail = text.rsplit(", ", 1)
            ax.set_title(f"{head},\n{tail}")
        else:
            continue
        spec = ax.get_subplotspec()
        rows.add(spec.rowspan.start if spec is not None else id(ax))
        line = max(line, 1.5 * ax.title.get_fontsize() / 72)
    # the panels keep their height: the figure grows by one title line per row that has one more
    fig.set_figheight(fig.get_figheight() + len(rows) * line)


def readability_problems(fig, width_px: float = CONTENT_WIDTH_PX, *, min_panel_px: float = MIN_PANEL_PX,
                         min_font_pt: float = MIN_FONT_PT) -> list[str]:
    """What a reader of the built site cannot read in ``fig``: one line per problem, none if fine.

    A panel (an ``Axes`` of the figure, not a colour bar, an inset nor an ``Axes`` labelled
    ``'strip'``: a residual strip under a panel, measured with it) must be ``min_panel_px``
    CSS pixels tall and every tick label, axis label, title, legend entry and text written into a
    panel (bar values, heatmap cells; of panels, insets and figure legends) ``min_font_pt`` large,
    and no two x tick labels of a panel, nor two panel titles, may overlap, as shown at ``width_px`` (see :func:`display_scale`).
    """
    fig.canvas.draw()
    scale = display_scale(fig, width_px)
    problems = []
    small: dict[str, float] = {}

    def check(kind, text):
        shown = text.get_fontsize() * scale / 96
        if shown < min_font_pt - 1e-6:
            small[kind] = min(shown, small.get(kind, np.inf))

    for ax in fig.axes:
        if not ax.get_visible():
            continue
        is_colorbar = getattr(ax, "_colorbar", None) is not None
        height = ax.get_position().height * fig.get_figheight() * scale
        if not is_colorbar and ax.get_label() != "strip" and height < min_panel_px - 0.5:
            problems.append(f"panel {ax.get_title() or ax.get_label() or '?'!r} is {height:.0f} px tall "
                            f"(< {min_panel_px:.0f})")
        for child in [ax, *ax.child_axes]:
            for kind, text in _texts(child):
                check(kind, text)
            if crowded_tick_labels(child):
                problems.append(f"tick labels of panel {child.get_title() or child.get_label() or '?'!r} "
                                f"run into each other")
    titles = [ax.title.get_window_extent() for ax in fig.axes
              if ax.get_visible() and ax.title.get_visible() and ax.title.get_text().strip()]
    if any(a.overlaps(b) for i, a in enumerate(titles) for b in titles[i + 1:]):
        problems.append("the titles of neighbouring panels run into each other")
    for legend in fig.legends:
        for text in legend.get_texts():
            check("legend", text)
    for text in (getattr(fig, "_suptitle", None), getattr(fig, "_supxlabel", None),
                 getattr(fig, "_supylabel", None)):
        if text is not None and text.get_visible() and text.get_text().strip():
            check("title", text)
    problems += [f"{kind}s shown at {pt:.1f} pt (< {min_font_pt:g})" for kind, pt in small.items()]
    return problems


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
            # with fewer than two 1-2-5 ticks in range matplotlib falls back to crowded linear ones
            # (their labels overlapped on zoom panels): the one 1-2-5 tick alone, or, with none,
            # two evenly spaced ticks
            decades = range(int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi))) + 1)
            ticks_125 = [m * 10.0**k for k in decades for m in (1, 2, 5) if lo <= m * 10.0**k <= hi]
            if len(ticks_125) >= 2:
                axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            elif ticks_125:
                axis.set_major_locator(FixedLocator(ticks_125))
            else:
                axis.set_major_locator(MaxNLocator(nbins=2, min_n_ticks=2))
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
             counts: bool = True, zoom: bool | None = None):
    """A learning curve with one fitted law drawn to ``factor`` x the last held-out x.

    ``label`` defaults to the law's name, followed by its extrapolation RMSE (Eq. 6) on the
    held-out points when ``show_rmse``.  ``points=False`` draws only the law (to overlay
    several laws on one panel).  The law's colour is its :data:`LAW_COLORS` entry unless
    ``color`` is given.  ``zoom`` adds an inset on the held-out region, where laws part ways
    (:func:`add_zoom`); by default on when the function draws its own figure (``ax=None``).
    """
    if zoom is None:
        zoom = ax is None and points
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
    ax.plot(x, law.predict(x), color=law_color(law) if color is None else color, lw=2,
            label=label, zorder=2)
    if x.max() > np.max(curve.x):
        ax.axvspan(np.max(curve.x), x.max(), color="0.93", zorder=0, lw=0)
    if legend:
        ax.legend(loc="lower left" if zoom else "best", fontsize="small")
    finish_log_axes(ax)
    if zoom:
        add_zoom(ax, curve, factor=factor)
    return ax


def _zoom_limits(curve, lines, factor):
    """x and y limits of the held-out region: the held-out points and the laws over them."""
    x_test = np.asarray(curve.x_test, dtype=float)
    if x_test.size == 0:
        return None
    x_lo = float(x_test.min()) / 1.15
    x_hi = float(x_test.max()) * min(factor, 1.6)
    ys = [np.asarray(curve.loss_test, dtype=float)]
    for line in lines:
        xd, yd = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
        ys.append(yd[(xd >= x_lo) & (xd <= x_hi)])
    y = np.concatenate(ys)
    y = y[np.isfinite(y)]
    lo, hi = float(y.min()), float(y.max())
    pad = 0.08 * (hi - lo) if hi > lo else 0.05 * abs(hi) + 1e-12
    return (x_lo, x_hi), (lo - pad, hi + pad)


def add_zoom(ax, curve, *, factor: float = EXTRAPOLATION_FACTOR, bounds=(0.52, 0.5, 0.45, 0.45)):
    """An inset (upper right of ``ax``) on the held-out region: held-out points and every law
    line of ``ax``, on a y range of their own, so that laws that look alike at full scale part.
    Returns the inset axes (``None`` if the curve has no held-out points)."""
    lines = [ln for ln in ax.get_lines() if not str(ln.get_label()).startswith("_")]
    limits = _zoom_limits(curve, lines, factor)
    if limits is None:
        return None
    inset = ax.inset_axes(bounds)
    inset.scatter(curve.x_test, curve.loss_test, s=12, color=COLORS["held_out"], linewidths=0, zorder=3)
    for line in lines:
        inset.plot(line.get_xdata(), line.get_ydata(), color=line.get_color(), lw=line.get_linewidth(),
                   ls=line.get_linestyle(), zorder=2)
    log_axis(inset, "x")
    inset.set_xlim(*limits[0])
    inset.set_ylim(*limits[1])
    inset.set_title("held-out region", fontsize="small", pad=2)
    inset.tick_params(labelsize="small", pad=1)
    inset.set_facecolor("white")
    for side in inset.spines.values():
        side.set_edgecolor("0.4")
    finish_log_axes(inset)
    return inset


def hide_inner_labels(ax, i: int, n: int, ncols: int) -> None:
    """In a grid of ``n`` panels, keep y labels on the first column and x labels on the bottom row.

    ``ncols`` is the number of columns asked for; the grid's own (which :func:`panel_grid` may
    have lowered to fit the page) takes precedence."""
    spec = ax.get_subplotspec()
    if spec is not None:
        ncols = spec.get_gridspec().ncols
    if i % ncols:
        ax.set_ylabel("")
    if i < n - ncols:
        ax.set_xlabel("")


#: The narrowest a panel of a grid is drawn, in inches (at the book's 110 dpi, about 190 px).
MIN_PANEL_WIDTH = 1.75


def page_grid_size(n: int, ncols: int, panel_size) -> tuple[int, int, tuple[float, float]]:
    """(nrows, ncols, figsize) of a grid of ``n`` panels that reads at the content width.

    The figure is at most :func:`page_width` wide (so it is never shrunk on the site): when
    ``ncols`` panels of ``panel_size`` do not fit, the panels get narrower, down to
    :data:`MIN_PANEL_WIDTH`, and then the grid gets fewer columns and more rows. Panel heights
    are kept (at least :func:`panel_height`, so that a panel is 180 px tall under its labels).
    """
    width = page_width()
    ncols = max(1, min(ncols, n, int(width // MIN_PANEL_WIDTH)))
    nrows = int(np.ceil(n / ncols))
    panel_w = min(panel_size[0], width / ncols)
    panel_h = max(panel_size[1], panel_height())
    return nrows, ncols, (panel_w * ncols, panel_h * nrows)


def panel_grid(n: int, ncols: int, panel_size, sharex=False, sharey=False):
    """A figure with ``n`` panels in rows of ``ncols`` (fewer if they do not fit the page, see
    :func:`page_grid_size`); returns the figure and the ``n`` visible axes."""
    if n < 1:
        raise ValueError("nothing to plot: the list of curves is empty.")
    nrows, ncols, figsize = page_grid_size(n, ncols, panel_size)
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize,
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
        ax.tick_params(labelsize="small")
        hide_inner_labels(ax, i, len(curves), ncols_used)
        ax.xaxis.label.set_fontsize("small")
        ax.yaxis.label.set_fontsize("small")
    wrap_wide_titles(fig, axes[:len(curves)])
    legend_ax = axes[0]
    if laws is not None:
        legend_ax = next((a for a, l in zip(axes, laws) if l is not None), axes[0])
    figure_legend(fig, legend_ax)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def plot_law_grid(curve, laws: Mapping[str, object] | Sequence, *, ncols: int = 2,
                  panel_size: tuple[float, float] = (4.4, 3.2), sharey: bool = True,
                  factor: float = EXTRAPOLATION_FACTOR, suptitle: str | bool | None = True,
                  zoom: bool = True):
    """One curve, one panel per fitted law (as in the paper's Figures 1, 5 and 8).

    ``laws`` maps a panel title (e.g. ``'M1'``) to a fitted law, or is a sequence of fitted
    laws titled by their ``name``.  Each panel's legend gives the extrapolation RMSE.  The
    panels fill rows of ``ncols`` (two by default, so that a page shows them large enough;
    ``ncols=len(laws)`` gives the paper's single row).  ``zoom`` adds a last panel with every
    law over the held-out region, on a y range of its own: there the laws part ways.
    """
    if not isinstance(laws, Mapping):
        laws = {getattr(law, "name", f"law {i + 1}"): law for i, law in enumerate(laws)}
    n = len(laws) + (1 if zoom else 0)
    fig, axes = panel_grid(n, ncols, panel_size, sharey=sharey and not zoom)
    for i, (ax, (name, law)) in enumerate(zip(axes, laws.items())):
        if sharey and zoom and i:
            ax.sharey(axes[0])
        plot_fit(curve, law, ax, label=f"{name}, RMSE {law_rmse(curve, law):.2g}", factor=factor,
                 title=name, legend=True, color=law_color(name, law_color(law)))
        ax.legend(loc="upper right", fontsize="small")
        hide_inner_labels(ax, i, n, ncols)
    if zoom:
        plot_zoom(curve, laws, axes[-1], factor=factor)
        hide_inner_labels(axes[-1], n - 1, n, ncols)
    xlabels = {ax.get_xlabel() for ax in axes if ax.get_visible()} - {""}
    if len(xlabels) == 1 and axes[0].get_subplotspec().get_gridspec().ncols > 1:
        # one x label under the grid: side by side, a long label ran into its neighbour's
        for ax in axes:
            ax.set_xlabel("")
        fig.supxlabel(xlabels.pop(), fontsize=plt.rcParams["axes.labelsize"])
    if suptitle is True:
        fig.suptitle(curve.label)
    elif isinstance(suptitle, str):
        fig.suptitle(suptitle)
    return fig


def plot_zoom(curve, laws: Mapping[str, object], ax=None, *, factor: float = EXTRAPOLATION_FACTOR,
              title: str = "held-out region, all laws", legend: bool = True):
    """Every law of ``laws`` (title -> fitted law) over the held-out region of ``curve``, each in
    its :data:`LAW_COLORS` colour (a second fit of the same law dashed), with the held-out points:
    where the laws part ways."""
    ax = new_ax(ax)
    x = extrapolation_grid(curve, factor)
    styles = ("-", "--", ":", "-.")
    seen: dict[str, int] = {}
    for name, law in laws.items():
        color = law_color(name, law_color(law))
        repeat = seen[str(color)] = seen.get(str(color), -1) + 1  # one law fitted two ways: same colour, new dash
        ax.plot(x, law.predict(x), lw=2, color=color, ls=styles[repeat % len(styles)], label=name, zorder=2)
    ax.scatter(curve.x_test, curve.loss_test, s=16, color=COLORS["held_out"], linewidths=0, zorder=3,
               label="held out")
    label_axes(ax, curve, title=title)
    limits = _zoom_limits(curve, ax.get_lines(), factor)
    if limits is not None:
        ax.set_xlim(*limits[0])
        ax.set_ylim(*limits[1])
    if legend:
        ax.legend(loc="best", fontsize="small")
    finish_log_axes(ax)
    return ax


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
                        va="bottom", fontsize="x-small", rotation=90 if n > 4 else 0)
    ax.set_xticks(x, laws)
    ax.set_ylim(0, min(1.05, max(0.2, float(np.nanmax(table.to_numpy(dtype=float))) + 0.15)))
    ax.set_ylabel(ylabel)
    ax.grid(axis="x", visible=False)
    if title:
        ax.set_title(title)
    ax.legend(loc="upper left", fontsize="small", ncol=1)
    return ax
