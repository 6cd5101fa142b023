"""The results cache: keyed on the package source, the data and the arguments; never stale."""

import pickle
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scaling import cache
from scaling.benchmark.data import LearningCurve


@pytest.fixture
def results(tmp_path, monkeypatch):
    monkeypatch.setenv("SCALING_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("SCALING_RESULTS_CACHE", "1")
    return tmp_path / "results"


def counter():
    calls = []

    def compute():
        calls.append(1)
        return pd.DataFrame({"value": [len(calls)]})
    return calls, compute


def test_a_result_is_computed_once_and_read_back(results):
    calls, compute = counter()
    first = cache.cached("demo", compute, key=("a", 1))
    second = cache.cached("demo", compute, key=("a", 1))
    assert len(calls) == 1
    pd.testing.assert_frame_equal(first, second)
    assert second is not first  # a fresh copy: a caller cannot change what the next one reads
    assert len(list(results.glob("demo-*.pkl"))) == 1


def test_other_arguments_or_switched_off_recompute(results, monkeypatch):
    calls, compute = counter()
    cache.cached("demo", compute, key=("a", 1))
    cache.cached("demo", compute, key=("a", 2))
    cache.cached("demo", compute, key=("a", 1), enabled=False)
    monkeypatch.setenv("SCALING_RESULTS_CACHE", "off")
    cache.cached("demo", compute, key=("a", 1))
    assert len(calls) == 4 and len(list(results.glob("demo-*.pkl"))) == 2


def test_a_source_change_invalidates_the_result(results, monkeypatch):
    calls, compute = counter()
    cache.cached("demo", compute)
    monkeypatch.setattr(cache, "source_key", lambda: "another version of the code")
    assert cache.cached("demo", compute)["value"].iloc[0] == 2
    assert len(calls) == 2


def test_an_unreadable_or_foreign_file_is_recomputed(results):
    calls, compute = counter()
    cache.cached("demo", compute)
    (path,) = results.glob("demo-*.pkl")
    path.write_bytes(b"not a pickle")
    cache.cached("demo", compute)
    path.write_bytes(pickle.dumps(("some other key", "stale")))  # same name, another key: never returned
    assert isinstance(cache.cached("demo", compute), pd.DataFrame)
    assert len(calls) == 3


def test_the_source_key_follows_every_package_file(tmp_path):
    package = tmp_path / "pkg"
    shutil.copytree(Path(cache.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    key = cache.source_key(package)
    assert len(key) == 64 and cache.source_key(package) == key
    module = package / "laws" / "paper.py"
    module.write_text(module.read_text() + "\n# a comment is a change\n")
    changed = cache.source_key(package)
    assert changed != key
    table = package / "ledger" / "reference" / "paper_reference.csv"
    table.write_bytes(table.read_bytes() + b"\n")
    assert cache.source_key(package) not in (key, changed)
    (package / "__pycache__").mkdir(exist_ok=True)
    (package / "__pycache__" / "x.pyc").write_bytes(b"compiled")  # build products are not sources
    assert cache.source_key(package) == cache.source_key(package)


def test_the_source_key_names_the_pinned_data():
    """The data's sha256 sums are pinned in a package file that every load checks, so they are in the key."""
    data_py = Path(cache.__file__).parent / "benchmark" / "data.py"
    from scaling.benchmark.data import SHA256

    assert all(digest in data_py.read_text() for digest in SHA256.values())


def test_tokens_name_values_by_content():
    x = np.arange(5.0)
    curve = LearningCurve("IC", "t", "m", "T", 10, x, x[::-1].copy(), x < 3)
    same = LearningCurve("IC", "t", "m", "T", 10, x.copy(), x[::-1].copy(), x < 3)
    other = LearningCurve("IC", "t", "m", "T", 10, x, x[::-1] + 1e-12, x < 3)
    assert cache.token(curve) == cache.token(same) != cache.token(other)
    assert cache.token({"b": 1, "a": 2}) == cache.token({"a": 2, "b": 1})
    assert cache.token((1, 2)) != cache.token([1, 2])
    frame = pd.DataFrame({"a": [1.0, 2.0]})
    assert cache.token(frame) == cache.token(frame.copy()) != cache.token(frame * 2)
    with pytest.raises(TypeError, match="cannot key a cached result on a function"):
        cache.token(counter)


def test_the_decorator_keys_on_arguments_but_not_on_reporting(results):
    calls = []

    @cache.cached_result
    def fit(curves, law="M4", *, progress=False, n_jobs=1):
        calls.append(law)
        return [law, len(curves)]

    curves = [np.arange(3.0)]
    assert fit(curves) == fit(curves, "M4", progress=True, n_jobs=4) == ["M4", 1]
    assert fit(curves, law="M2") == ["M2", 1]
    fit(curves, cache=False)
    assert calls == ["M4", "M2", "M4"]
    assert fit.uncached(curves) == ["M4", 1]


def test_two_processes_compute_a_shared_result_once(results, tmp_path):
    """The book build and nbval may ask for one result at once: the second waits for the first."""
    log = tmp_path / "computed.log"
    script = textwrap.dedent(f"""
        import time
        from scaling import cache

        def compute():
            with open({str(log)!r}, "a") as fh:
                fh.write("computed\\n")
            time.sleep(1.5)
            return 42

        print(cache.cached("shared", compute))
    """)
    env = {**__import__("os").environ}
    runs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
            for _ in range(2)]
    outputs = [run.communicate(timeout=120)[0].strip() for run in runs]
    assert outputs == ["42", "42"]
    assert log.read_text().count("computed") == 1
