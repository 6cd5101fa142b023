"""Sphinx extension of the API reference (book/api/): docstrings as the package writes them.

Two things autodoc and napoleon would otherwise get wrong, both handled before napoleon reads a
docstring (``autodoc-process-docstring``, priority 100; napoleon runs at 500):

* **A re-exported constant.** autodoc finds a constant's documentation in the ``#:`` comment above
  its assignment, but only in the module it is asked about. The API pages document the public names
  (``scaling.laws.LAWS``), which the package imports from the module that defines them
  (``scaling.laws.paper``); autodoc then falls back to the docstring of the value's *type*
  ("dict() -> new empty dictionary ...", with reST errors under ``-W``). Such a type docstring is
  replaced by the ``#:`` comment of the module of the package that assigns the same object to the
  same name, or by nothing when there is none.
* **Plain-text habits in docstrings.** ``|x|`` for an absolute value outside a literal is a reST
  substitution reference (an error under ``-W``), so a ``|`` outside double backquotes is escaped.
  Many entries of the package's numpydoc sections are written ``name : what it is, in words`` (a
  sentence, continued on the indented lines) where numpydoc puts a type; napoleon would print the
  first line as the type and the rest as the description, so an entry with five or more words after
  its colon becomes ``name`` with all of it as the description. A ``Returns`` section written as a
  paragraph becomes one entry without a type. A paragraph after a section that is none of its
  entries (``Raises FileNotFoundError (...)`` after a blank line) ends the section, as napoleon does
  after two blank lines, instead of being read as more entries. A title underline a few characters
  short of its title is lengthened to it.

Both leave a docstring written to the letter of numpydoc and reST unchanged.
"""

from __future__ import annotations

import re
import sys

from sphinx.pycode import ModuleAnalyzer

_MISSING = object()
_LITERAL = re.compile(r"(``.+?``)")
_FIELD_SECTIONS = {"parameters", "other parameters", "returns", "yields", "raises", "warns", "attributes",
                   "receives", "keyword arguments"}
# a numpydoc entry: "name", "x, y", "*args", "name : type", "DataFrame" ...
_ENTRY = re.compile(r"^\*{0,2}[A-Za-z_][\w.\[\]]*(\s*,\s*\*{0,2}[A-Za-z_][\w.]*)*\s*(:.*)?$")


def _words(text) -> list[str]:
    return " ".join(text).split() if isinstance(text, list) else (text or "").split()


def defining_comment(name: str, obj) -> list[str] | None:
    """The ``#:`` comment of ``obj`` where a module of ``name``'s top-level package assigns it to the
    same attribute name (``scaling.laws.LAWS`` -> the comment above ``LAWS = ...`` in
    ``scaling.laws.paper``); None when no module documents it."""
    root, attr = name.split(".", 1)[0], name.rsplit(".", 1)[-1]
    for modname in sorted(m for m in list(sys.modules) if m == root or m.startswith(root + ".")):
        module = sys.modules.get(modname)
        if module is None or getattr(module, attr, _MISSING) is not obj:
            continue
        try:
            comments = ModuleAnalyzer.for_module(modname).find_attr_docs()
        except Exception:  # noqa: BLE001 - a module without source (compiled, namespace) has no comments
            continue
        if ("", attr) in comments:
            return [line.rstrip("\n") for line in comments[("", attr)]]
    return None


def escape_bars(line: str) -> str:
    """``|`` outside ````literals```` escaped, unless the line is a reST table or line block."""
    if line.lstrip().startswith(("|", "+-", "+=")):
        return line
    parts = _LITERAL.split(line)
    return "".join(p if i % 2 else p.replace("\\|", "|").replace("|", "\\|") for i, p in enumerate(parts))


def fix_underlines(lines: list[str]) -> list[str]:
    """A section title's underline that falls a few characters short of the title (a reST error:
    "Title underline too short") lengthened to the title."""
    out = list(lines)
    for i in range(len(out) - 1):
        title, under = out[i].rstrip(), out[i + 1].strip()
        if (title.strip() and len(under) >= 3 and len(set(under)) == 1 and under[0] in "=-~^\"'*+#"
                and len(title.strip()) - 3 <= len(under) < len(title.strip())):
            out[i + 1] = out[i + 1].replace(under, under[0] * len(title.strip()))
    return out


def _words_after_colon(text: str) -> int:
    return len(text.split(" : ", 1)[1].split()) if " : " in text else 0


def numpydoc_sections(lines: list[str]) -> list[str]:
    """The package's plain-text habits in numpydoc sections, rewritten so that napoleon reads them as
    meant (see the module docstring): a prose entry ``name : what it is, in words`` becomes ``name``
    with the prose as its description (not as its type); a ``Returns`` section written as a paragraph
    becomes one entry without a type; a paragraph after a section that is none of its entries ends
    the section."""
    out: list[str] = []
    section, section_indent, prose_returns = None, None, False
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if stripped and nxt.strip() and set(nxt.strip()) == {"-"} and len(nxt.strip()) >= len(stripped):
            section = stripped.lower() if stripped.lower() in _FIELD_SECTIONS else None
            section_indent, prose_returns = (indent if section else None), False
            out.append(line)
            continue
        if prose_returns:  # the rest of a Returns paragraph, up to a blank line
            prose_returns = bool(stripped)
            out.append(" " * 4 + line if stripped and indent == section_indent else line)
            continue
        if section is None or not stripped or indent != section_indent or set(stripped) <= {"-"}:
            out.append(line)
            continue
        # an unindented line inside a field section: an entry, or prose
        first = out[-1].strip() and set(out[-1].strip()) <= {"-"}
        if section in ("returns", "yields") and first and not _ENTRY.match(stripped) and len(stripped.split()) >= 6:
            out += [" " * indent + ":", " " * 4 + line]
            prose_returns = True
        elif not first and not out[-1].strip() and not _ENTRY.match(stripped):
            out += ["", line]
            section = section_indent = None
        elif section not in ("returns", "yields") and _words_after_colon(stripped) >= 5:
            name, text = line.split(" : ", 1)
            out += [name.rstrip(), " " * (indent + 4) + text.strip()]
        else:
            out.append(line)
    return out


def process_docstring(app, what, name, obj, options, lines) -> None:
    if what in ("data", "attribute") and lines:
        type_doc = type(obj).__doc__
        if type_doc and _words(lines) == _words(type_doc):
            lines[:] = defining_comment(name, obj) or []
            return
    lines[:] = numpydoc_sections(fix_underlines([escape_bars(line) for line in lines]))


def setup(app):
    app.connect("autodoc-process-docstring", process_docstring, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
