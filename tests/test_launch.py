"""The Colab and Binder buttons of every chapter open a notebook that exists and runs (no build needed).

The links are derived the way Jupyter Book 1.x draws them (sphinx-book-theme's
``header_buttons/launch.py``): ``repository.url`` / ``repository.branch`` / ``repository.path_to_book``
of ``_config.yml`` become the theme's ``repository_url`` / ``repository_branch`` / ``path_to_docs``, and a
page ``book/<name>`` whose source is ``book/<name>.ipynb`` gets

* Colab:  ``{colab_url}/github/{org}/{repo}/blob/{branch}/{path_to_book/}{page}.ipynb``
* Binder: ``{binderhub_url}/v2/gh/{org}/{repo}/{branch}?urlpath={lab/tree|tree}/{path_to_book/}{page}.ipynb``

Binder opens the repository's root, so that path must name a file of the repository (tracked by git);
Colab fetches the same path from GitHub. The repository URL is set in one place, ``_config.yml``; the
first cell of every chapter installs the package from it when ``scaling`` is missing.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
CELL = re.compile(r"```\{code-cell\}[^\n]*\n(.*?)```", re.S)


def _toc_files(entry):
    if isinstance(entry, dict):
        if "file" in entry:
            yield entry["file"]
        for key in ("root", "parts", "chapters", "sections"):
            value = entry.get(key)
            if isinstance(value, str):
                yield value
            elif isinstance(value, list):
                for item in value:
                    yield from _toc_files(item)


def notebook_pages() -> list[str]:
    """The pages of the book whose source is a notebook (their launch buttons are drawn)."""
    return [page for page in dict.fromkeys(_toc_files(TOC)) if (ROOT / f"{page}.ipynb").is_file()]


def launch_links(page: str) -> dict[str, str]:
    """The Colab and Binder URLs sphinx-book-theme draws for ``page`` with this _config.yml."""
    repo, launch = CONFIG["repository"], CONFIG["launch_buttons"]
    match = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+?)/?", repo["url"])
    assert match, f"launch buttons need a GitHub repository URL, got {repo['url']!r}"
    org, name = match.groups()
    branch = repo.get("branch", "main")
    book = repo.get("path_to_book", "").strip("/")
    path = f"{book + '/' if book else ''}{page}.ipynb"
    ui = {"classic": "tree", "jupyterlab": "lab/tree"}[launch.get("notebook_interface", "classic")]
    return {
        "colab": f"{launch['colab_url'].strip('/')}/github/{org}/{name}/blob/{branch}/{path}",
        "binder": f"{launch['binderhub_url'].strip('/')}/v2/gh/{org}/{name}/{branch}?urlpath={ui}/{path}",
    }


def _repository_path(url: str) -> str:
    if "?urlpath=" in url:
        return url.split("?urlpath=", 1)[1].split("/tree/", 1)[1] if "/tree/" in url else url.split("tree/", 1)[1]
    return url.split("/blob/", 1)[1].split("/", 1)[1]


def _tracked() -> set[str]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip("not a git checkout")
    return set(out.stdout.split("\n"))


def test_the_theme_draws_links_in_the_format_checked_here():
    """Guard against a theme upgrade: the formats above are those of the installed sphinx-book-theme."""
    import sphinx_book_theme

    source = (Path(sphinx_book_theme.__file__).parent / "header_buttons" / "launch.py").read_text()
    assert 'f"{binderhub_url}/v2/gh/{org}/{repo}/{branch}"' in source
    assert 'f"{url}?urlpath={ui_pre}/{path_rel_repo}"' in source
    assert 'f"{colab_url}/github/{org}/{repo}/blob/{branch}/{path_rel_repo}"' in source
    assert 'path_rel_repo = f"{book_relpath}{pagename}{extension}"' in source
    assert '"jupyterlab": "lab/tree"' in source


def test_the_repository_and_launch_settings_are_set():
    repo, launch = CONFIG["repository"], CONFIG["launch_buttons"]
    assert repo["url"].startswith("https://github.com/") and repo["branch"]
    assert launch["colab_url"] == "https://colab.research.google.com"
    assert launch["binderhub_url"] == "https://mybinder.org"
    assert len(notebook_pages()) >= 19


@pytest.mark.parametrize("page", notebook_pages())
def test_every_launch_link_opens_a_notebook_of_the_repository(page):
    tracked = _tracked()
    links = launch_links(page)
    assert links["binder"].startswith("https://mybinder.org/v2/gh/") and "?urlpath=lab/tree/book/" in links["binder"]
    assert links["colab"].startswith("https://colab.research.google.com/github/")
    for kind, url in links.items():
        path = _repository_path(url)
        assert path == f"{page}.ipynb"
        assert (ROOT / path).is_file() and path in tracked, f"{kind} link {url} names {path}, not in the repository"


def test_binder_installs_the_package_in_its_runtime():
    binder = ROOT / "binder"
    assert (binder / "runtime.txt").read_text().strip() == "python-3.11"
    requirements = (binder / "requirements.txt").read_text()
    assert "-r ../requirements.txt" in requirements.split("\n")
    post = binder / "postBuild"
    assert post.stat().st_mode & 0o111, "repo2docker runs postBuild only when it is executable"
    assert re.search(r"^pip install .*-e \.\s*$", post.read_text(), re.M)


@pytest.mark.parametrize("page", notebook_pages())
def test_the_first_cell_installs_the_package_from_the_configured_repository(page):
    text = (ROOT / f"{page}.md").read_text(encoding="utf-8")
    first = CELL.search(text).group(1)
    assert first.startswith(":tags: [remove-cell]\n"), "the install cell is bookkeeping: hidden from the page"
    assert 'find_spec("scaling") is None' in first, "it must be a no-op (no network) when scaling imports"
    assert f"revisiting-scaling-laws @ git+{CONFIG['repository']['url']}" in first, (
        "the install URL must be _config.yml's repository.url (see README, 'Where the book lives')")
    assert "myst_nb" not in text, "Colab has no myst_nb: import glue from scaling.report"


def test_the_install_cell_is_a_no_op_where_scaling_imports():
    page = notebook_pages()[0]
    code = CELL.search((ROOT / f"{page}.md").read_text(encoding="utf-8")).group(1).split("\n\n", 1)[1]
    calls = []
    import subprocess as sp

    real = sp.run
    try:
        sp.run = lambda *a, **k: calls.append(a)
        exec(compile(code, page, "exec"), {})
    finally:
        sp.run = real
    assert calls == []
