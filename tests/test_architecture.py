"""The package's layering, read from its imports with ``ast`` (see ARCHITECTURE.md).

Each module may import modules of its own layer or of the layers below it, never above; no module
imports a private name (``_x``) from another module; the module-level import graph has no cycle.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "scaling"

#: Lowest first. A module belongs to the first layer with a prefix of its dotted name.
LAYERS = (
    ("foundation", ("scaling._checks", "scaling._threads", "scaling._pool", "scaling._notebook", "scaling._progress",
                    "scaling.outputs", "scaling.metrics", "scaling.cache")),
    ("benchmark", ("scaling.benchmark",)),
    ("laws", ("scaling.laws",)),
    ("evaluate", ("scaling.evaluate", "scaling.diagnostics")),
    ("ledger", ("scaling.ledger",)),
    ("report", ("scaling.report",)),
    ("studies", ("scaling.studies",)),
    ("userfit", ("scaling.userfit",)),
    ("commands", ("scaling.cli", "scaling.__main__", "scaling")),
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> int:
    best = None
    for rank, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if module == p or module.startswith(p + "."):
                if best is None or len(p) > best[1]:
                    best = (rank, len(p))
    if best is None:
        raise AssertionError(f"{module} is in no layer; add it to LAYERS and ARCHITECTURE.md")
    return best[0]


def _modules() -> dict[str, tuple[Path, bool]]:
    return {_module_name(p): (p, p.name == "__init__.py") for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts}


MODULES = _modules()


def _resolve(importer: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = importer.split(".") if is_pkg else importer.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str):
    """(imported module, imported names, line, at module level) for every import of ``module``."""
    path, is_pkg = MODULES[module]
    tree = ast.parse(path.read_text(), filename=str(path))
    top = set(map(id, tree.body))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "scaling":
                    yield a.name, (), node.lineno, id(node) in top
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, is_pkg, node)
            if target.split(".")[0] != "scaling":
                continue
            names = tuple(a.name for a in node.names)
            # `from pkg import submodule` imports a module
            for name in names:
                if f"{target}.{name}" in MODULES:
                    yield f"{target}.{name}", (), node.lineno, id(node) in top
            plain = tuple(n for n in names if f"{target}.{n}" not in MODULES)
            if plain:
                yield target, plain, node.lineno, id(node) in top


def test_every_module_is_in_a_layer():
    for module in MODULES:
        _layer(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_a_higher_layer(module):
    mine = _layer(module)
    for target, _, line, _ in _imports(module):
        if target in MODULES or any(m.startswith(target + ".") for m in MODULES):
            assert _layer(target) <= mine, (
                f"{module} (layer {LAYERS[mine][0]}) imports {target} (layer {LAYERS[_layer(target)][0]}) "
                f"at line {line}; a layer imports only itself and the layers below (ARCHITECTURE.md)")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_name_crosses_a_module(module):
    for target, names, line, _ in _imports(module):
        private = [n for n in names if n.startswith("_") and not n.startswith("__")]
        assert not private, f"{module} imports private {private} from {target} at line {line}; make it public there"


def test_the_module_level_import_graph_has_no_cycle():
    graph = {m: {t for t, _, _, top in _imports(m) if top and t in MODULES and t != m} for m in MODULES}
    # a package's __init__ importing its own submodules is how it exposes them, not a cycle
    for m, (_, is_pkg) in MODULES.items():
        if is_pkg:
            graph[m] = {t for t in graph[m] if not t.startswith(m + ".")}
    state: dict[str, int] = {}

    def visit(m, stack):
        state[m] = 1
        for t in graph[m]:
            if state.get(t) == 1:
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(t):] + [t]))
            if t not in state:
                visit(t, stack + [t])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [m])


def test_the_layering_test_can_fail(tmp_path, monkeypatch):
    """A lower layer importing a higher one is caught (guards the test itself)."""
    fake = {"scaling.laws.paper": (tmp_path / "paper.py", False)}
    (tmp_path / "paper.py").write_text("from ..studies import ic\n")
    monkeypatch.setattr(sys.modules[__name__], "MODULES", {**MODULES, **fake})
    with pytest.raises(AssertionError, match="imports scaling.studies"):
        test_no_module_imports_a_higher_layer("scaling.laws.paper")


#: What only a figure or table module writes: drawing libraries, hand-written HTML, JavaScript and CSS.
_RENDERING = ("matplotlib", "seaborn", "ipywidgets", "<table", "<script", "<style", "set_table_styles", "import html")


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("scaling.studies.")))
def test_a_study_computes_and_its_plots_module_draws(module):
    """``studies/<family>.py`` returns frames; its figures and styled tables live in
    ``studies/<family>_plots.py`` (ARCHITECTURE.md, "Where to add things")."""
    path, _ = MODULES[module]
    if module.endswith("_plots"):
        assert module.removesuffix("_plots") in MODULES, f"{module} draws for no study module"
        return
    found = [s for s in _RENDERING if s in path.read_text()]
    assert not found, f"{module} contains {found}; figures and rendering go into {module}_plots"
