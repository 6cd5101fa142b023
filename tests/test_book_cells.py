"""Visible cells teach; bookkeeping (glue calls for the prose) lives in removed cells."""

import re
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parent.parent / "book"
CELL = re.compile(r"```\{code-cell\}[^\n]*\n(.*?)```", re.S)


def _visible_cells(text):
    for m in CELL.finditer(text):
        body = m.group(1)
        head = body.split("\n\n", 1)[0] if body.startswith((":", "---")) else ""
        if "remove-cell" not in head:
            yield text[: m.start()].count("\n") + 1, body


@pytest.mark.parametrize("chapter", sorted(p.name for p in BOOK.glob("*.md")))
def test_no_visible_cell_calls_glue(chapter):
    text = (BOOK / chapter).read_text()
    offenders = [line for line, body in _visible_cells(text) if "glue(" in body]
    assert not offenders, f"{chapter}: visible code cells at lines {offenders} call glue(); move it to a remove-cell"


def test_the_check_sees_a_visible_glue():
    sample = "```{code-cell} ipython3\nx = 1\nglue('x', x)\n```\n```{code-cell} ipython3\n:tags: [remove-cell]\n\nglue('y', 2)\n```\n"
    assert [line for line, body in _visible_cells(sample) if "glue(" in body] == [1]


#: A visible cell is something a student reads and copies: at most this many non-blank lines.
MAX_VISIBLE_LINES = 35


@pytest.mark.parametrize("chapter", sorted(p.name for p in BOOK.glob("*.md")))
def test_visible_cells_are_short_and_hold_no_prose_guards(chapter):
    text = (BOOK / chapter).read_text()
    long = [(line, n) for line, body in _visible_cells(text)
            if (n := sum(1 for row in body.splitlines() if row.strip())) > MAX_VISIBLE_LINES]
    assert not long, f"{chapter}: visible cells (line, non-blank lines) {long} exceed {MAX_VISIBLE_LINES} lines"
    guards = [line for line, body in _visible_cells(text) if re.search(r"^\s*assert\b", body, re.M)]
    assert not guards, f"{chapter}: visible cells at lines {guards} assert; move prose guards to a remove-cell"


def test_the_length_and_guard_checks_see_offenders():
    long = "```{code-cell} ipython3\n" + "x = 1\n" * (MAX_VISIBLE_LINES + 1) + "```\n"
    assert [sum(1 for r in b.splitlines() if r.strip()) for _, b in _visible_cells(long)] == [MAX_VISIBLE_LINES + 1]
    guarded = "```{code-cell} ipython3\n:tags: [hide-cell]\n\nx = 1\nassert x == 1\n```\n"
    assert [line for line, b in _visible_cells(guarded) if re.search(r"^\s*assert\b", b, re.M)] == [1]
