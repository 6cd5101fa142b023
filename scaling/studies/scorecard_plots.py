"""The book's view of the scorecard (computation: :mod:`scaling.studies.scorecard`): a compact,
linked HTML table, one line per item of the paper, its status coloured.
"""

from __future__ import annotations

import html

import pandas as pd

__all__ = ["STATUS_COLOURS", "CHAPTER_NAMES", "style_scorecard"]


#: Background colours of the statuses in the book's view.
STATUS_COLOURS = {
    "reproduced": "#c7e9c0", "within error": "#e5f5e0", "close": "#fdebc8", "differs": "#f9c9c5",
    "cannot be reproduced from the released data": "#e0e0e0", "not compared": "#eeeeee",
}
#: Short names of the chapters, for the view's links.
CHAPTER_NAMES = {"language_modelling": "LM", "image_classification": "IC", "translation": "NMT",
                 "appendix_alpha": "alpha ablation", "appendix_ic_panels": "IC panels", "bigbench": "BIG-Bench"}


def _href(section: str, suffix: str) -> str:
    page, _, anchor = section.partition("#")
    return page.removesuffix(".md") + suffix + (f"#{anchor}" if anchor else "")


def _agree_text(line) -> str:
    if line["kind"] != "rows":
        return "–"
    text = f"{line['n_reproduced'] + line['n_within_error']} of {line['n_rows']}"
    if line["n_pm_rows"]:
        text += f"<br><span class='sc-small'>± {line['n_pm_agree']} of {line['n_pm_rows']}</span>"
    return text


def _chapter_name(section: str) -> str:
    chapter = section.partition(".md")[0]
    return CHAPTER_NAMES.get(chapter, chapter)


def style_scorecard(card: pd.DataFrame, link_suffix: str = ".html"):
    """A compact view of :func:`scaling.studies.scorecard.scorecard` for the book (about 600 px wide, two lines per item).

    Columns: the paper's item, linked to the main book section that shows it, with the chapters
    that show it below (each linked); the status, coloured; how many judged numbers agree (and,
    below, the "±" cells, not judged); the key number with ours and the paper's value; the main
    cause of the numbers that do not agree. What the item shows is the tooltip of its link.

    ``link_suffix`` turns a MyST target ``chapter.md#anchor`` into a link (``.html`` for the built
    book, ``.ipynb`` inside Jupyter). Returns a pandas Styler (render with ``.to_html()``).
    """
    rows = []
    for name, line in card.iterrows():
        shows = html.escape(line["shows"])
        links = " · ".join(f"<a href='{html.escape(_href(s, link_suffix))}' title='{shows}'>"
                           f"{html.escape(_chapter_name(s))}</a>" for s in line["sections"])
        first = html.escape(_href(line["sections"][0], link_suffix))
        if line["key"]:
            key = (f"{html.escape(line['key'])}<br><b>{html.escape(line['ours'])}</b>"
                   f" <span class='sc-small'>vs</span> {html.escape(line['paper_value'])}")
        else:
            key = f"<span class='sc-small'>{html.escape(line['note'])}</span>"
        rows.append({
            "Paper": f"<a href='{first}' title='{shows}'><b>{html.escape(name)}</b></a>"
                     f"<br><span class='sc-small'>{links}</span>",
            "Status": html.escape(line["status"]),
            "Agree": _agree_text(line),
            "Key number: <b>ours</b> vs paper": key,
            "Main cause of the rest": html.escape(line["cause"]) or "–",
        })
    view = pd.DataFrame(rows)
    colour = {html.escape(s): f"background-color: {c}; color: #1a1a1a;" for s, c in STATUS_COLOURS.items()}
    return (view.style.hide(axis="index")
            .map(lambda v: colour.get(v, ""), subset=["Status"])
            .set_table_attributes("class='scorecard'")
            .set_table_styles([
                {"selector": "", "props": "border-collapse: collapse; font-size: 0.8rem; line-height: 1.25;"},
                {"selector": "th", "props": "text-align: left; padding: 2px 6px; vertical-align: bottom;"},
                {"selector": "td", "props": "text-align: left; padding: 3px 6px; vertical-align: top;"},
                {"selector": "td:nth-child(1), td:nth-child(3)", "props": "white-space: nowrap;"},
                {"selector": "td:nth-child(2)", "props": "width: 7.5em;"},
                {"selector": "td:nth-child(4)", "props": "min-width: 14em;"},
                {"selector": ".sc-small", "props": "opacity: 0.75; font-size: 0.92em;"},
            ]))
