"""Hand-written HTML for the book: a table that sorts when a header is clicked.

The chapters' own tables (which rows, which numbers, which cells bold) are built next to their
figures, in ``scaling/studies/<family>_plots.py``; this module only renders a frame of cell texts.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd

__all__ = ["SORT_SCRIPT", "sortable_table_html"]

#: Sorts the rows of the table whose id is ``%(id)s`` when a header is clicked (again: reversed).
SORT_SCRIPT = """
(function () {
  var table = document.getElementById("%(id)s");
  if (!table) { return; }
  var heads = table.tHead.rows[0].cells;
  function key(cell, numeric) {
    var v = cell.getAttribute("data-sort");
    return numeric ? parseFloat(v) : v.toLowerCase();
  }
  Array.prototype.forEach.call(heads, function (th, col) {
    th.style.cursor = "pointer";
    th.title = "click to sort";
    th.addEventListener("click", function () {
      var numeric = th.getAttribute("data-type") === "number";
      var up = th.getAttribute("data-order") !== "ascending";
      Array.prototype.forEach.call(heads, function (h) {
        h.removeAttribute("data-order");
        h.querySelector(".sort-mark").textContent = "";
      });
      th.setAttribute("data-order", up ? "ascending" : "descending");
      th.querySelector(".sort-mark").textContent = up ? " \\u25B2" : " \\u25BC";
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a.cells[col], numeric), y = key(b.cells[col], numeric);
        var d = x < y ? -1 : (x > y ? 1 : 0);
        if (d === 0) { d = a.getAttribute("data-index") - b.getAttribute("data-index"); return d; }
        return up ? d : -d;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
})();
"""


def sortable_table_html(cells: pd.DataFrame, *, table_id: str, sort_keys: pd.DataFrame | None = None,
                        numeric: Sequence[str] = (), left: Sequence[str] = (), bold: pd.DataFrame | None = None,
                        caption: str | None = None, max_height: str = "34rem", font_size: str = "0.8rem") -> str:
    """A frame as self-contained HTML: click a header to sort by that column.

    ``cells`` holds the text of each cell (its columns are the headers, its index is not shown);
    ``sort_keys`` (same shape, default the texts) what a column sorts by, numerically for the
    columns in ``numeric``; ``left`` names left-aligned columns and ``bold`` (booleans, same shape)
    the cells in bold. A few lines of inline JavaScript do the sorting, so the table works offline
    and needs no extension; without JavaScript it is a plain table with a sticky header, scrolling
    beyond ``max_height``.
    """
    if not table_id.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"table_id must be letters, digits, '-' or '_', got {table_id!r}.")
    keys = cells if sort_keys is None else sort_keys
    out = [f"<style>#{table_id} th, #{table_id} td {{ padding: 0.2rem 0.45rem; white-space: nowrap; }}</style>",
           f'<div style="max-height: {max_height}; overflow: auto; margin-bottom: 1rem">',
           f'<table id="{table_id}" class="sortable-rmse" style="font-size: {font_size}">']
    if caption:
        out.append(f'<caption style="caption-side: top">{html.escape(caption)}</caption>')
    out.append("<thead><tr>" + "".join(
        f'<th data-type="{"number" if name in numeric else "text"}" style="position: sticky; top: 0; '
        f'background: var(--pst-color-background, white)">'
        f'{html.escape(str(name))}<span class="sort-mark"></span></th>' for name in cells.columns)
        + "</tr></thead><tbody>")
    for i in range(len(cells)):
        row = []
        for j, name in enumerate(cells.columns):
            text = html.escape(str(cells.iat[i, j]))
            if bold is not None and bool(bold.iat[i, j]):
                text = f"<strong>{text}</strong>"
            align = ' style="text-align:left"' if name in left else ""
            row.append(f'<td data-sort="{html.escape(str(keys.iat[i, j]))}"{align}>{text}</td>')
        out.append(f'<tr data-index="{i}">' + "".join(row) + "</tr>")
    out.append("</tbody></table></div>")
    out.append("<script>" + SORT_SCRIPT % {"id": table_id} + "</script>")
    return "\n".join(out)
