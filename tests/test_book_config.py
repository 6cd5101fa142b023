"""The book's build settings that the reproduction relies on (no build needed)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import SimpleNamespace

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def test_every_build_executes_every_chapter_and_fails_on_errors():
    execute = CONFIG["execute"]
    assert execute["execute_notebooks"] == "force", "a cached execution could show stale numbers"
    assert execute["allow_errors"] is False and execute["raise_on_error"] is True
    assert execute["timeout"] >= 300
    extensions = CONFIG["sphinx"]["local_extensions"]
    assert "reexecute_notebooks" in extensions, "an incremental build would keep stale chapters"


def test_a_rebuild_executes_only_the_pages_whose_source_or_package_changed(tmp_path, monkeypatch):
    ext = _load_extension("reexecute_notebooks")
    pages = {name: tmp_path / f"{name}.ipynb" for name in ("intro", "estimation", "api")}
    for name, path in pages.items():
        path.write_text(f"{{'page': '{name}'}}")
    env = SimpleNamespace(found_docs=set(pages), doc2path=lambda name: pages[name])
    app = SimpleNamespace(env=env)
    package = {"key": "version 1"}
    monkeypatch.setattr(ext, "_package_key", lambda: package["key"])
    monkeypatch.delenv(ext.FORCE_ENV, raising=False)

    def outdated(changed=()):
        return ext._outdated(app, env, set(), set(changed), set())

    def build(names):
        for name in names:
            env.docname = name
            ext._remember(app, None)

    assert outdated() == sorted(pages)          # a fresh checkout: every page runs
    build(pages)
    assert outdated() == []                     # nothing changed: nothing runs
    pages["estimation"].write_text("{'page': 'estimation', 'edited': True}")
    assert outdated() == ["estimation"]         # one chapter edited: it alone runs
    assert outdated(changed={"estimation"}) == []   # (when Sphinx saw the change itself, it reads it anyway)
    build(["estimation"])
    package["key"] = "version 2"                # the package (or its pinned data) changed: all run
    assert outdated() == sorted(pages)
    build(pages)
    monkeypatch.setenv(ext.FORCE_ENV, "all")
    assert outdated() == sorted(pages)


def test_sphinx_never_sees_the_markdown_twins_or_the_rest_of_the_repository():
    patterns = set(CONFIG["exclude_patterns"])
    assert {"book/*.md", "README.md", "tests", "scaling", "_build", ".ci"} <= patterns
    assert CONFIG["only_build_toc_files"] is True


def _load_extension(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "book" / "_ext" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_offline_mathjax_ships_the_files_it_needs():
    assert "offline_mathjax" in CONFIG["sphinx"]["local_extensions"]
    ext = _load_extension("offline_mathjax")
    source = ext.mathjax_source_dir()
    assert (source / ext.ENTRY_POINT).is_file()
    assert any((source / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
    skipped = ext._ignore(str(source), ["tex-svg.js", "tex-chtml.js", "mml-chtml.js", "svg", "input"])
    assert skipped == {"tex-svg.js", "mml-chtml.js", "svg"}


def test_the_api_reference_is_built_from_the_docstrings():
    sphinx = CONFIG["sphinx"]
    assert {"sphinx.ext.autodoc", "sphinx.ext.autosummary", "sphinx.ext.napoleon"} <= set(sphinx["extra_extensions"])
    assert sphinx["config"]["napoleon_numpy_docstring"] is True
    # no stub pages written into the source tree: every object is documented on its page explicitly
    assert sphinx["config"]["autosummary_generate"] is False
    assert sphinx["local_extensions"]["api_docstrings"] == "book/api/_ext"
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    api = [p for p in toc["parts"] if p["caption"] == "API reference"]
    assert api and api[0]["chapters"][0]["file"] == "book/api/index"
    # the API pages are reStructuredText, so the jupytext-twin pattern "book/*.md" never hides them
    assert all((ROOT / f"{c['file']}.rst").is_file() for c in api[0]["chapters"])


def test_the_heavy_chapters_are_precomputed_beside_the_build(tmp_path, monkeypatch):
    config = CONFIG["sphinx"]["config"]
    assert "precompute" in CONFIG["sphinx"]["local_extensions"]
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    for page in config["precompute_pages"] + config["alone_pages"]:
        assert page in toc and (ROOT / f"{page}.ipynb").is_file(), f"{page} is not a chapter"
    ext = _load_extension("precompute")
    handoff = ext._handoff_module()
    started, started_env, patched = [], [], []
    monkeypatch.setattr(ext.subprocess, "Popen",
                        lambda command, **kw: started.append(command) or started_env.append(kw["env"]) or object())
    monkeypatch.setattr(handoff, "patch", lambda folder, **kw: patched.append(Path(folder)))
    app = SimpleNamespace(config=SimpleNamespace(precompute_pages=["book/b", "book/a"], alone_pages=["book/t"],
                                                 precompute_results=["m:f", "n:g"]),
                          outdir=str(tmp_path / "html"), srcdir=str(tmp_path))
    env = SimpleNamespace(doc2path=lambda name: tmp_path / f"{name}.ipynb")
    docs = ["book/a", "book/b", "book/c", "book/t", "api/x"]
    monkeypatch.setenv(ext.ENV, "1")
    monkeypatch.delenv("SCALING_RESULTS_CACHE", raising=False)
    monkeypatch.delenv(handoff.ENV, raising=False)
    ext._order(app, env, docs)
    # the light pages first, then the heavy ones in the helper's order, the timing page last
    assert docs == ["book/c", "api/x", "book/b", "book/a", "book/t"]
    # on its own, the build has the helper execute the heavy chapters and take their outputs
    assert started[0][2] == "--hand-over" and started[0][4:9] == ["--result", "m:f", "--result", "n:g", "--"]
    assert [Path(p).name for p in started[0][9:]] == ["b.ipynb", "a.ipynb"]
    folder = Path(started[0][3])
    assert patched == [folder]
    assert handoff.expected(folder) == {str((tmp_path / "book" / n).resolve()) for n in ("a.ipynb", "b.ipynb")}
    assert "SCALING_KERNEL_FIGURES" not in started_env[0]  # it draws the figures the pages show
    # in the test run (nbval hands the chapters over) it only fills the results cache, drawing nothing
    monkeypatch.setenv(handoff.ENV, str(tmp_path / "nbval"))
    ext._order(app, env, ["book/a", "book/b"])
    assert started[1][2:8] == ["--cache-only", "--result", "m:f", "--result", "n:g", "--"] and len(patched) == 1
    assert started_env[1]["SCALING_KERNEL_FIGURES"] == "off" and started_env[1]["MPLBACKEND"] == "Agg"
    # off: no helper, and the heavy pages first
    monkeypatch.setenv(ext.ENV, "0")
    docs = ["book/a", "book/c", "book/t", "book/b"]
    ext._order(app, env, docs)
    assert docs == ["book/b", "book/a", "book/c", "book/t"] and len(started) == 2
    # nothing heavy to read, or one heavy page (incremental builds): no helper
    monkeypatch.setenv(ext.ENV, "1")
    ext._order(app, env, ["book/c"])
    ext._order(app, env, ["book/c", "book/a"])
    assert len(started) == 2


def test_the_precomputed_results_name_functions_callable_without_arguments():
    import importlib
    import inspect

    results = CONFIG["sphinx"]["config"]["precompute_results"]
    assert results, "the build computes no shared result ahead"
    for result in results:
        module, _, name = result.partition(":")
        function = getattr(importlib.import_module(module), name)
        required = [p for p in inspect.signature(function).parameters.values()
                    if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        assert not required, f"{result} needs {[p.name for p in required]}; the build calls it without arguments"


def test_the_helper_hands_over_a_chapter_it_executed_and_marks_a_failing_one(tmp_path, monkeypatch, capsys):
    """book/_ext/precompute.py's second process, for real, on two tiny notebooks, after two shared
    results (one of which fails: reported, and the chapters still run)."""
    import nbformat

    ext = _load_extension("precompute")
    handoff = ext._handoff_module()
    (tmp_path / "tiny_results.py").write_text(
        "from pathlib import Path\n"
        "def make():\n    Path(__file__).with_name('made.txt').write_text(str(6 * 7))\n"
        "def boom():\n    raise OSError('disk full')\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    good, bad = tmp_path / "good.ipynb", tmp_path / "bad.ipynb"
    # the good chapter reads what the shared result left: it ran first
    for path, code in ((good, "print(open('made.txt').read())"), (bad, "1 / 0")):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(code)]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, path)
    folder = tmp_path / "handed"
    folder.mkdir()
    ext._main(["--hand-over", str(folder), "--result", "tiny_results:boom", "--result", "tiny_results:make",
               "--", str(good), str(bad)])
    printed = capsys.readouterr().out
    assert "tiny_results:boom: failed after" in printed and "OSError: disk full" in printed
    assert "tiny_results:make: computed in" in printed
    executed = nbformat.read(handoff.handoff_path(folder, good), as_version=4)
    assert executed.cells[0].outputs[0].text == "42\n"
    assert executed.metadata["scaling_execution"]["by"] == ext.BY
    assert handoff.handoff_path(folder, bad, ".failed").is_file()
    assert not handoff.handoff_path(folder, bad).exists()
