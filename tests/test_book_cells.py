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
