"""The chapters exist twice, as MyST Markdown (book/*.md) and as notebooks (book/*.ipynb).

jupytext keeps the two halves identical (`jupytext --sync book/*.md`). These tests fail when
one half of a pair is missing, when the two disagree on any cell, when a committed notebook
carries outputs, or when the table of contents names a page that does not exist.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
FIX = "run `jupytext --sync book/*.md` (or `jupytext --set-formats ipynb,md:myst book/<name>.md`)"


def _is_jupytext_markdown(path: Path) -> bool:
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---"):
        return False
    front = text.split("---", 2)[1]
    return "jupytext:" in front


MARKDOWN = sorted(p for p in BOOK.glob("*.md") if _is_jupytext_markdown(p))
NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))
NAMES = sorted({p.stem for p in MARKDOWN} | {p.stem for p in NOTEBOOKS})


def _cells(nb) -> list[tuple[str, str, tuple, dict]]:
    """What must agree: cell type, source (trailing blanks ignored), tags and MyST-NB options."""
    out = []
    for cell in nb.cells:
        meta = cell.get("metadata", {})
        out.append((cell.cell_type, cell.source.rstrip(), tuple(meta.get("tags", ())),
                    dict(meta.get("mystnb", {}))))
    return out


def test_there_are_chapters():
    assert NAMES, f"no chapter notebooks found in {BOOK}"


@pytest.mark.parametrize("name", NAMES)
def test_pair_is_complete(name):
    md, ipynb = BOOK / f"{name}.md", BOOK / f"{name}.ipynb"
    assert md.is_file() and _is_jupytext_markdown(md), f"{md} is missing (its notebook exists); {FIX}"
    assert ipynb.is_file(), f"{ipynb} is missing (its Markdown twin exists); {FIX}"


@pytest.mark.parametrize("name", NAMES)
def test_pair_agrees_cell_by_cell(name):
    md, ipynb = BOOK / f"{name}.md", BOOK / f"{name}.ipynb"
    if not (md.is_file() and ipynb.is_file()):
        pytest.skip("pair incomplete (reported by test_pair_is_complete)")
    from_md = _cells(jupytext.read(md))
    from_nb = _cells(nbformat.read(ipynb, as_version=4))
    assert len(from_md) == len(from_nb), (
        f"{name}: {len(from_md)} cells in the .md but {len(from_nb)} in the .ipynb; {FIX}"
    )
    for i, (a, b) in enumerate(zip(from_md, from_nb)):
        assert a == b, f"{name}: cell {i} differs between .md and .ipynb:\n  md:    {a!r}\n  ipynb: {b!r}\n{FIX}"


@pytest.mark.parametrize("name", [p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(name):
    nb = nbformat.read(BOOK / f"{name}.ipynb", as_version=4)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, (
        f"book/{name}.ipynb stores outputs in cells {dirty}; the book recomputes everything on each "
        "build, so commit notebooks without outputs (`jupyter nbconvert --clear-output --inplace "
        f"book/{name}.ipynb`, or `jupytext --sync book/{name}.md` after deleting the .ipynb)."
    )


@pytest.mark.parametrize("name", [p.stem for p in NOTEBOOKS])
def test_notebook_pairing_metadata(name):
    nb = nbformat.read(BOOK / f"{name}.ipynb", as_version=4)
    formats = nb.metadata.get("jupytext", {}).get("formats", "")
    assert "md:myst" in formats and "ipynb" in formats, (
        f"book/{name}.ipynb is not paired with its Markdown twin (jupytext formats {formats!r}); {FIX}"
    )
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", (
        f"book/{name}.ipynb should use the 'python3' kernel so that any Python environment runs it"
    )


def _toc_files(node) -> list[str]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("root", "file") and isinstance(value, str):
                found.append(value)
            else:
                found += _toc_files(value)
    elif isinstance(node, list):
        for item in node:
            found += _toc_files(item)
    return found


def test_toc_pages_exist():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages = _toc_files(toc)
    assert pages, "_toc.yml lists no pages"
    for page in pages:
        candidates = [ROOT / f"{page}{ext}" for ext in (".ipynb", ".rst", ".md")]
        assert any(c.is_file() for c in candidates), f"_toc.yml lists {page!r} but no such page exists"
        if (ROOT / f"{page}.md").is_file() and _is_jupytext_markdown(ROOT / f"{page}.md"):
            assert (ROOT / f"{page}.ipynb").is_file(), (
                f"{page}: the site is built from the .ipynb half of each pair, which is missing; {FIX}"
            )
