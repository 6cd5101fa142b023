"""The API reference (book/api/*.rst) documents every public name of the modules it covers (no build
needed): a new public function, class or constant that no page documents fails here.

A name counts as documented when an ``auto*`` directive of a page names an object that *is* the
public one under the same name (``scaling.evaluate.extrapolation_rmse`` is documented by
``.. autofunction:: extrapolation_rmse`` under ``scaling.metrics``, where it is defined).
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
API = ROOT / "book" / "api"
PAGES = sorted(API.glob("*.rst"))

#: The modules the reference covers: every name of their ``__all__`` must be documented.
DOCUMENTED_MODULES = (
    "scaling", "scaling.laws", "scaling.laws.sound", "scaling.laws.released", "scaling.benchmark",
    "scaling.benchmark.catalogue", "scaling.evaluate", "scaling.metrics", "scaling.diagnostics",
    "scaling.ledger", "scaling.userfit", "scaling.cache",
)
_DIRECTIVE = re.compile(r"^\.\. (auto(?:function|class|exception|data|module)|currentmodule|py:currentmodule)::"
                        r"\s*(\S+)", re.M)


def _resolve(target: str):
    """The object a dotted name names (the longest importable module prefix, then attributes)."""
    parts = target.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(target)


def documented_targets() -> dict[str, str]:
    """Every object an ``auto*`` directive of the API pages documents: full dotted name -> page."""
    found = {}
    for page in PAGES:
        module = None
        for kind, name in _DIRECTIVE.findall(page.read_text(encoding="utf-8")):
            if kind in ("currentmodule", "py:currentmodule"):
                module = None if name == "None" else name
            elif kind == "automodule":
                module = name
            else:
                full = name if module is None or name.startswith(module + ".") or "." in name else f"{module}.{name}"
                found[full] = page.name
    return found


def test_every_api_page_is_in_the_toc_and_every_toc_api_page_exists():
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    listed = set(re.findall(r"file:\s*book/api/(\S+)", toc))
    assert listed == {p.stem for p in PAGES}
    parts = yaml.safe_load(toc)["parts"]
    assert any(p["caption"] == "API reference" for p in parts)


def test_every_directive_names_an_object_that_exists():
    for target, page in documented_targets().items():
        try:
            _resolve(target)
        except (ImportError, AttributeError):
            pytest.fail(f"book/api/{page} documents {target}, which does not exist (renamed or removed?)")


@pytest.mark.parametrize("modname", DOCUMENTED_MODULES)
def test_every_public_name_is_documented(modname):
    module = importlib.import_module(modname)
    assert getattr(module, "__all__", None), f"{modname} has no __all__"
    documented = {}
    for target in documented_targets():
        try:
            documented.setdefault(target.rsplit(".", 1)[-1], []).append(_resolve(target))
        except (ImportError, AttributeError):
            continue
    missing = [name for name in module.__all__
               if not any(obj is getattr(module, name) for obj in documented.get(name, []))]
    assert not missing, (f"{modname}.__all__ names {missing}, which no page of book/api/ documents: add an "
                         f"auto* directive (and the autosummary line) to the page of {modname}")


def test_every_documented_module_is_covered_by_an_automodule():
    text = "\n".join(p.read_text(encoding="utf-8") for p in PAGES)
    for modname in DOCUMENTED_MODULES:
        assert re.search(rf"^\.\. automodule:: {re.escape(modname)}\s*$", text, re.M), modname


def test_the_command_line_page_names_every_command():
    from scaling.cli import COMMANDS

    text = (API / "cli.rst").read_text(encoding="utf-8")
    assert "python -m scaling --help" in text
    for command in COMMANDS:
        assert f"``{command}``" in text, f"book/api/cli.rst does not describe the {command!r} command"


def test_readme_links_the_api_reference():
    assert "book/api/" in (ROOT / "README.md").read_text(encoding="utf-8")


# The docstring hook of the API reference (book/api/_ext/api_docstrings.py).

@pytest.fixture(scope="module")
def hook():
    sys.path.insert(0, str(API / "_ext"))
    try:
        yield importlib.import_module("api_docstrings")
    finally:
        sys.path.remove(str(API / "_ext"))


def test_a_reexported_constant_gets_its_defining_comment(hook):
    import scaling.laws

    lines = (type(scaling.laws.LAWS).__doc__ or "").splitlines()
    hook.process_docstring(None, "data", "scaling.laws.LAWS", scaling.laws.LAWS, {}, lines)
    assert lines and "registry" in " ".join(lines)
    lines = (float.__doc__ or "").splitlines()
    hook.process_docstring(None, "data", "scaling.nowhere.X", 0.5, {}, lines)
    assert lines == []


def test_plain_text_habits_are_rewritten_and_numpydoc_is_left_alone(hook):
    assert hook.escape_bars("stopped by the |delta| rule, ``|x|``") == "stopped by the \\|delta\\| rule, ``|x|``"
    plain = ["Fit.", "", "Parameters", "----------", "data_dir : folder holding the two files. Overrides",
             "    the environment.", "", "Raises ValueError (bad input).", "", "Returns", "-------",
             "dict with the fitted parameters and the loss of the fit,", "and the seconds."]
    out = hook.numpydoc_sections(plain)
    assert out[4:6] == ["data_dir", "    folder holding the two files. Overrides"]
    assert out[7:9] == ["", ""] and out[9] == "Raises ValueError (bad input)."
    assert out[-3:] == [":", "    dict with the fitted parameters and the loss of the fit,", "    and the seconds."]
    numpydoc = ["Fit.", "", "Parameters", "----------", "x : float", "    The point.", "y, z : str or None",
                "", "Returns", "-------", "DataFrame", "    One row per curve."]
    assert hook.numpydoc_sections(numpydoc) == numpydoc
    assert hook.fix_underlines(["A title (long)", "------------", "x"])[1] == "-" * 14
