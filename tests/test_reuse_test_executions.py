"""book/_ext/reuse_test_executions.py: in the test run, the build shows nbval's execution of a chapter
instead of executing it a second time, and falls back to executing it whenever that is not safe."""

import time
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from conftest import HANDOFF, chapter_order


def _notebook(*sources, outputs=None):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# title")]
    for k, source in enumerate(sources):
        cell = nbformat.v4.new_code_cell(source)
        if outputs is not None:
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=outputs[k])]
            cell.execution_count = k + 1
        nb.cells.append(cell)
    return nb


def _hand_over(folder: Path, page: Path, executed=None, failed: bool = False) -> None:
    folder.mkdir(exist_ok=True)
    (folder / HANDOFF.EXPECTED).write_text(f"{page.resolve()}\n")
    if executed is not None:
        nbformat.write(executed, HANDOFF.handoff_path(folder, page))
    if failed:
        HANDOFF.handoff_path(folder, page, ".failed").write_text("failed\n")


def test_handoff_names_are_distinct_per_notebook(tmp_path):
    a, b = HANDOFF.handoff_path(tmp_path, Path("/x/book/a.ipynb")), HANDOFF.handoff_path(tmp_path, Path("/x/a.ipynb"))
    assert a != b and a.parent == tmp_path and a.suffix == ".ipynb"
    assert HANDOFF.handoff_path(tmp_path, Path("/x/a.ipynb"), ".failed").suffix == ".failed"


def test_only_an_expected_notebook_that_passed_is_taken(tmp_path):
    page, folder = tmp_path / "intro.ipynb", tmp_path / "runs"
    executed = _notebook("print(1)", outputs=["1\n"])
    assert HANDOFF.wait_for(folder, page, timeout=0.2) is None  # nothing expected: execute as usual
    _hand_over(folder, page, executed)
    assert HANDOFF.wait_for(folder, page, timeout=1).cells[1].outputs[0].text == "1\n"
    assert HANDOFF.wait_for(folder, tmp_path / "other.ipynb", timeout=1) is None  # not run by nbval
    HANDOFF.handoff_path(folder, page).unlink()
    start = time.monotonic()
    assert HANDOFF.wait_for(folder, page, timeout=0.5) is None  # expected, never arrived: give up
    assert time.monotonic() - start >= 0.45
    _hand_over(folder, page, failed=True)
    assert HANDOFF.wait_for(folder, page, timeout=30) is None  # failed: at once


def test_outputs_are_copied_only_onto_the_same_code():
    page = _notebook("a = 1", "print(a)")
    assert HANDOFF.take_outputs(page, _notebook("a = 1", "print(a)", outputs=["", "1\n"]))
    assert page.cells[2].outputs[0].text == "1\n" and page.cells[2].execution_count == 2
    edited = _notebook("a = 2", "print(a)")
    assert not HANDOFF.take_outputs(edited, _notebook("a = 1", "print(a)", outputs=["", "1\n"]))
    assert edited.cells[2].outputs == []


def test_the_build_executes_itself_unless_nbval_handed_the_notebook_over(tmp_path, monkeypatch):
    from myst_nb.core.execute.direct import NotebookClientDirect

    monkeypatch.setattr(NotebookClientDirect, "start_client", lambda self: ran.append(self.path))
    ran, logged = [], []
    HANDOFF.patch(tmp_path / "runs", timeout=0.3)
    page = tmp_path / "intro.ipynb"
    client = SimpleNamespace(path=page, notebook=_notebook("print(1)"), exec_metadata=None,
                             logger=SimpleNamespace(info=logged.append))
    NotebookClientDirect.start_client(client)
    assert ran == [page] and client.notebook.cells[1].outputs == []  # nothing handed over: executed
    (tmp_path / "runs").mkdir()
    HANDOFF.hand_over(tmp_path / "runs", page, _notebook("print(1)", outputs=["1\n"]), 2.5, by="nbval")
    (tmp_path / "runs" / HANDOFF.EXPECTED).write_text(f"{page.resolve()}\n")
    NotebookClientDirect.start_client(client)
    assert ran == [page]  # not executed again
    assert client.notebook.cells[1].outputs[0].text == "1\n"
    assert client.exec_metadata["succeeded"] and client.exec_metadata["runtime"] == 2.5
    assert logged[-1] == "Took the outputs executed by nbval (2.50 seconds)"


def test_nbval_runs_the_chapters_in_the_order_the_build_reads_them():
    config = pytest.importorskip("yaml").safe_load(Path(HANDOFF.__file__).parents[2].joinpath("_config.yml").read_text())
    heavy, alone = config["sphinx"]["config"]["precompute_pages"], config["sphinx"]["config"]["alone_pages"]
    order = chapter_order(["book/zeta", alone[0], heavy[1], "book/alpha", heavy[0]])
    assert order == ["book/alpha", "book/zeta", heavy[0], heavy[1], alone[0]]


def test_a_trailing_semicolon_hides_the_value_as_in_a_notebook():
    from conftest import _ends_with_semicolon

    assert _ends_with_semicolon("plot(\n    x,\n);")
    assert _ends_with_semicolon("fig = make()\nfig;  # hidden")
    assert not _ends_with_semicolon("fig")
    assert not _ends_with_semicolon("x = f(1); y = 2\ny")
    assert not _ends_with_semicolon("%time f(1)")
