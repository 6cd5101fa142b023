"""Every chapter has exercises in sphinx-exercise's syntax, with each solution's code inside its dropdown.

The book numbers exercises through sphinx-exercise (``:::{exercise}`` with a ``:label:``, and
``{solution}`` or the gated ``{solution-start}`` ... ``{solution-end}`` around code cells, since
MyST-NB cannot nest an executable cell in a directive). Hand-numbered admonitions drift out of
order and leave solution code outside the dropdown. The book's own figures are numbered with a
prefix so that they never read as the paper's "Figure N".
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CHAPTERS = sorted(p.name for p in BOOK.glob("*.md"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))

EXERCISE = re.compile(r"^:{3,}\{exercise\}[^\n]*\n:label: ([\w-]+)", re.M)
SOLUTION = re.compile(r"^(:{3,})\{(solution|solution-start)\} ([\w-]+)\n((?::\w+:[^\n]*\n)*)", re.M)
HAND_NUMBERED = re.compile(r"\{admonition\}\s*(Exercise|Solution)\b|^\*\*Exercise \d+", re.M)
CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```", re.M | re.S)


def _exercises_section(text: str) -> tuple[int, int]:
    start = text.find("\n## Exercises")
    if start < 0:
        return -1, -1
    end = text.find("\n## ", start + 1)
    return start, len(text) if end < 0 else end


def _solution_cells(text: str):
    """(line, inside a gated solution?) for each code cell of the Exercises section that is shown."""
    start, end = _exercises_section(text)
    if start < 0:
        return
    depth_marks = [(m.start(), +1) for m in re.finditer(r"^:{3,}\{solution-start\}", text, re.M)]
    depth_marks += [(m.start(), -1) for m in re.finditer(r"^:{3,}\{solution-end\}", text, re.M)]
    for cell in CODE_CELL.finditer(text, start, end):
        body = cell.group(1)
        head = body.split("\n\n", 1)[0] if body.startswith((":", "---")) else ""
        if "remove-cell" in head:
            continue
        depth = sum(sign for pos, sign in depth_marks if pos < cell.start())
        yield text[: cell.start()].count("\n") + 1, depth == 1


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_chapter_has_at_least_two_exercises_with_solutions(chapter):
    text = (BOOK / chapter).read_text(encoding="utf-8")
    labels = EXERCISE.findall(text)
    assert len(labels) >= 2, f"{chapter}: {len(labels)} exercises in sphinx-exercise syntax; at least two wanted"
    assert len(set(labels)) == len(labels), f"{chapter}: duplicate exercise labels {labels}"
    solved = [m.group(3) for m in SOLUTION.finditer(text)]
    assert sorted(solved) == sorted(labels), f"{chapter}: exercises {labels} but solutions for {solved}"
    for m in SOLUTION.finditer(text):
        assert ":class: dropdown" in m.group(4), f"{chapter}: the solution to {m.group(3)} is not a dropdown"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_no_hand_numbered_exercise_admonitions(chapter):
    text = (BOOK / chapter).read_text(encoding="utf-8")
    assert not HAND_NUMBERED.search(text), f"{chapter}: a hand-numbered Exercise/Solution admonition remains"
    prose = CODE_CELL.sub("", text)
    assert not re.search(r"\bExercises? \d", prose), f"{chapter}: prose cites an exercise by hand number; use {{numref}}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_solution_code_sits_inside_its_solution(chapter):
    text = (BOOK / chapter).read_text(encoding="utf-8")
    starts = re.findall(r"^:{3,}\{solution-start\}", text, re.M)
    ends = re.findall(r"^:{3,}\{solution-end\}", text, re.M)
    assert len(starts) == len(ends), f"{chapter}: {len(starts)} solution-start but {len(ends)} solution-end"
    outside = [line for line, inside in _solution_cells(text) if not inside]
    assert not outside, f"{chapter}: shown code cells at lines {outside} of the Exercises lie outside a solution"


def test_the_solution_check_sees_code_outside_a_solution():
    inside = ("\n## Exercises\n\n:::{exercise}\n:label: a-ex1\nQ\n:::\n\n::::{solution-start} a-ex1\n"
              ":class: dropdown\n::::\n\n```{code-cell} ipython3\nx = 1\n```\n\n::::{solution-end}\n::::\n")
    assert [inside_ for _, inside_ in _solution_cells(inside)] == [True]
    outside = inside + "\n```{code-cell} ipython3\ny = 2\n```\n"
    assert [inside_ for _, inside_ in _solution_cells(outside)] == [True, False]
    removed = inside + "\n```{code-cell} ipython3\n:tags: [remove-cell]\n\nassert x == 1\n```\n"
    assert [inside_ for _, inside_ in _solution_cells(removed)] == [True]


def test_sphinx_exercise_is_enabled_and_pinned():
    assert "sphinx_exercise" in CONFIG["sphinx"]["extra_extensions"]
    pins = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert re.search(r"^sphinx-exercise==\d", pins, re.M)


def test_book_figures_and_tables_never_read_as_the_papers():
    formats = CONFIG["sphinx"]["config"]["numfig_format"]
    for kind in ("figure", "table"):
        assert "%s" in formats[kind]
        assert not re.match(r"\s*(Figure|Fig\.?|Table)\b", formats[kind]), \
            f"numfig_format[{kind!r}] = {formats[kind]!r} reads like the paper's numbering"
