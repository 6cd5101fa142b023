"""Tests for scaling.benchmark.data. No network: every download goes to a loopback port or a fake.

Tests marked by the ``real_dir`` fixture need the released CSVs in ``$SCALING_DATA_DIR``
(CI sets it to /work/shared/data) and are skipped when it is unset.
"""

import os
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scaling.benchmark import data
from scaling.benchmark import (BenchmarkFormatError, ChecksumError, DownloadError, load_benchmark,
                          read_csv)

PINNED_BASE_URL = data.BASE_URL  # captured before the autouse fixture redirects it
REAL_DIR = os.environ.get(data.DATA_DIR_ENV)
VISION, LANG = "benchmark.vision.csv", "benchmark.lang.csv"


@pytest.fixture(autouse=True)
def no_network(monkeypatch, tmp_path_factory):
    """Send any download to a closed loopback port and keep the real cache untouched."""
    monkeypatch.setattr(data, "BASE_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv(data.CACHE_DIR_ENV, str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def real_dir():
    if not REAL_DIR:
        pytest.skip(f"{data.DATA_DIR_ENV} is not set; point it at a folder holding {VISION} and "
                    f"{LANG} (e.g. /work/shared/data) to run the tests on the real benchmark")
    return REAL_DIR


@pytest.fixture(scope="session")
def bench(real_dir):
    return load_benchmark(real_dir)


@pytest.fixture(scope="session")
def bench_dups(real_dir):
    return load_benchmark(real_dir, drop_duplicates=False)


@pytest.fixture
def copy_dir(real_dir, tmp_path):
    """A writable copy of the data folder."""
    for name in (VISION, LANG):
        shutil.copy(os.path.join(real_dir, name), tmp_path / name)
    return tmp_path


def fail_if_downloading(*args, **kwargs):
    raise AssertionError("a configured local folder must never fall back to a download")


# --- the released benchmark -----------------------------------------------------------------
def test_curve_counts(bench):
    assert len(bench.curves) == 92
    assert {d: len(bench.by_domain(d)) for d in data.DOMAINS} == {"IC": 72, "NMT": 5, "LM": 5, "BB": 10}


def test_row_counts(real_dir, bench, bench_dups):
    assert len(read_csv(os.path.join(real_dir, VISION))) == 18_883
    assert len(read_csv(os.path.join(real_dir, LANG))) == 1_399
    assert len(bench_dups.table) == 18_883 + 1_399
    assert len(bench.table) == 18_883 + 1_399 - 687


def test_duplicates(bench, bench_dups):
    assert bench.duplicates_removed == 687
    assert sum(c.n_duplicates_removed for c in bench.curves) == 687
    assert bench.summary_table()["duplicates_removed"].sum() == 687
    assert "687" in bench.summary() and "687" in repr(bench)
    # all duplicates are LM, and every LM point is stored exactly 4 times
    assert {c.domain for c in bench.curves if c.n_duplicates_removed} == {"LM"}
    for c in bench.by_domain("LM"):
        full = bench_dups.curve(*c.key)
        assert len(full) == 4 * len(c) and c.n_duplicates_removed == 3 * len(c)
        counts = full.to_frame().value_counts(["x", "loss", "fit"])
        assert (counts == 4).all() and len(counts) == len(c)
    assert len(bench.curve("LM", "val_loss", "1.68e+07")) == 119
    assert len(bench_dups.curve("LM", "val_loss", "1.68e+07")) == 476
    assert bench_dups.duplicates_removed == 0


def test_x_sorted_and_split(bench, bench_dups):
    for c in bench.curves:
        assert np.all(np.diff(c.x) > 0), c  # distinct x once duplicates are gone
        # fitting points all come before held-out points (checked true on the released files)
        assert c.x_fit.max() < c.x_test.min(), c
        assert np.array_equal(c.is_fit, np.arange(len(c)) < c.n_fit)
    for c in bench_dups.curves:
        assert np.all(np.diff(c.x) >= 0), c


def test_order(bench):
    keys = [c.key for c in bench.curves]
    rank = {d: i for i, d in enumerate(data.DOMAINS)}
    assert keys == sorted(keys, key=lambda k: (rank[k[0]], k[1], k[2]))
    assert keys[0] == ("IC", "bird_10", "BiT/101/3") and keys[-1][0] == "BB"


def test_names(bench):
    date = bench.curve("BB", "('date', '1-shot')", "262M")
    assert (date.task_name, date.shots) == ("date_understanding", 1)
    assert {c.task_name for c in bench.by_domain("BB")} == {
        "date_understanding", "linguistic_mappings", "qa_wikidata", "mult_data_wrangling",
        "unit_conversion"}
    assert sorted(c.shots for c in bench.by_domain("BB")) == [1] * 5 + [2] * 5
    inet = bench.curve("IC", "inet_10", "BiT/101/3")
    assert (inet.task_name, inet.shots, inet.label) == ("ImageNet", 10, "ImageNet 10-shot (BiT/101/3)")
    assert {c.task_name for c in bench.by_domain("IC")} == {"ImageNet", "Birds 200", "CIFAR-100", "Caltech101"}
    assert {c.shots for c in bench.by_domain("IC")} == {5, 10, 25}
    nmt = bench.curve("NMT", "log_perplexity", "6 Enc, 6 Dec")
    assert (nmt.task_name, nmt.shots) == ("log-perplexity", None)
    assert bench.curve("LM", "val_loss", "1.07e+09").task_name == "validation loss"


def test_table_matches_curves(bench):
    assert list(bench.table.columns) == ["domain", "task", "model", "x", "loss", "fit", "task_name", "shots"]
    assert bench.table["fit"].dtype == bool and bench.table["x"].dtype == float
    rebuilt = pd.concat([c.to_frame() for c in bench.curves], ignore_index=True)
    pd.testing.assert_frame_equal(rebuilt, bench.table, check_dtype=False)


def test_summary_table(bench):
    st = bench.summary_table()
    assert len(st) == 92 and (st["n"] == st["n_fit"] + st["n_test"]).all()
    assert (st["x_fit_max"] < st["x_test_min"]).all()
    assert (st.loc[st.domain == "NMT", "n_test"] == 1).all()  # NMT holds out one point (512M)


def test_curve_api(bench):
    c = bench.curve("IC", "inet_10", "BiT/101/3")
    assert c.n_fit == len(c.x_fit) == len(c.loss_fit) and c.n_test == len(c.x_test) == len(c.loss_test)
    with pytest.raises(ValueError):
        c.x[0] = 1.0  # shared arrays are read-only
    with pytest.raises(KeyError, match="inet_10"):
        bench.curve("IC", "imagenet_10", "BiT/101/3")
    with pytest.raises(ValueError, match="unknown domain"):
        bench.by_domain("CV")


def test_loading_is_fast(real_dir):
    start = time.perf_counter()
    load_benchmark(real_dir)
    assert time.perf_counter() - start < 1.0


# --- where the files come from --------------------------------------------------------------
def test_data_dir_argument_overrides_env(real_dir, tmp_path, monkeypatch):
    import pooch
    monkeypatch.setattr(pooch, "retrieve", fail_if_downloading)
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "nowhere"))
    assert len(load_benchmark(data_dir=real_dir).curves) == 92
    # ...and a bad argument is not rescued by a good env var
    monkeypatch.setenv(data.DATA_DIR_ENV, real_dir)
    with pytest.raises(FileNotFoundError, match="data_dir argument"):
        load_benchmark(data_dir=tmp_path / "nowhere")


def test_env_var_is_used(real_dir, monkeypatch):
    monkeypatch.setenv(data.DATA_DIR_ENV, real_dir)
    assert load_benchmark().source == str(Path(real_dir))


def test_checksum_mismatch_local(copy_dir, monkeypatch):
    path = copy_dir / LANG
    raw = bytearray(path.read_bytes())
    raw[100] = ord("7") if raw[100] != ord("7") else ord("8")  # one byte changed
    path.write_bytes(bytes(raw))
    with pytest.raises(ChecksumError) as err:
        load_benchmark(copy_dir)
    msg = str(err.value)
    assert LANG in msg and data.SHA256[LANG] in msg and data.sha256(path) in msg
    assert data.DATA_DIR_ENV in msg and LANG in msg.split("original from")[1]


def test_missing_file_names_env_var(copy_dir, monkeypatch):
    import pooch
    monkeypatch.setattr(pooch, "retrieve", fail_if_downloading)
    (copy_dir / LANG).unlink()
    monkeypatch.setenv(data.DATA_DIR_ENV, str(copy_dir))
    with pytest.raises(FileNotFoundError) as err:
        load_benchmark()
    msg = str(err.value)
    assert LANG in msg and str(copy_dir) in msg and data.DATA_DIR_ENV in msg and "http" in msg


def test_missing_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match=r"nowhere \(from \$SCALING_DATA_DIR\) does not exist"):
        load_benchmark()


def test_offline_download_fails_clearly(monkeypatch):
    """Nothing configured and no network (a closed loopback port): a DownloadError, no file."""
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    with pytest.raises(DownloadError) as err:
        load_benchmark()
    msg = str(err.value)
    assert "http://127.0.0.1:9/benchmark.vision.csv" in msg and data.DATA_DIR_ENV in msg
    assert not list(data.cache_dir().glob("*.csv"))


def test_download_errors_are_translated(monkeypatch):
    import pooch
    import requests
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)

    def offline(*args, **kwargs):
        raise requests.ConnectionError("Failed to resolve raw.githubusercontent.com")
    monkeypatch.setattr(pooch, "retrieve", offline)
    with pytest.raises(DownloadError, match="offline"):
        load_benchmark()

    def bad_hash(*args, **kwargs):
        raise ValueError("SHA256 hash of downloaded file (abc) does not match the known hash")
    monkeypatch.setattr(pooch, "retrieve", bad_hash)
    with pytest.raises(ChecksumError, match=data.SHA256[VISION]):
        load_benchmark()


def test_download_path_with_fake_pooch(real_dir, monkeypatch):
    """The download branch asks pooch for the pinned URL, hash and cache folder."""
    import pooch
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.setattr(data, "BASE_URL", PINNED_BASE_URL)
    calls = []

    def fake_retrieve(url, known_hash, fname, path, progressbar):
        calls.append(url)
        assert url == PINNED_BASE_URL + fname and data.UPSTREAM_COMMIT in url
        assert known_hash == "sha256:" + data.SHA256[fname] and path == data.cache_dir()
        path.mkdir(parents=True, exist_ok=True)
        shutil.copy(os.path.join(real_dir, fname), path / fname)
        return str(path / fname)
    monkeypatch.setattr(pooch, "retrieve", fake_retrieve)
    bench = load_benchmark()
    assert len(calls) == 2 and len(bench.curves) == 92 and bench.source == str(data.cache_dir())


# --- malformed content ----------------------------------------------------------------------
TINY_CSV = """Domain,Task,Model,Seen Examples,Loss,Training
NMT,log_perplexity,"6 Enc, 6 Dec",500000.0,0.93,1
NMT,log_perplexity,"6 Enc, 6 Dec",1000000.0,0.74,1
NMT,log_perplexity,"6 Enc, 6 Dec",2000000.0,0.63,0
BB,"('date', '1-shot')",262M,2621440000.0,0.84,1
BB,"('date', '1-shot')",262M,5143386927.0,0.83,1
BB,"('date', '1-shot')",262M,7204499808.0,0.82,0
"""


def write_lang(tmp_path, edit):
    """A tiny valid CSV, edited by `edit` (DataFrame -> DataFrame), written to bad.csv."""
    (tmp_path / "tiny.csv").write_text(TINY_CSV)
    df = pd.read_csv(tmp_path / "tiny.csv", dtype=str, keep_default_na=False)
    out = tmp_path / "bad.csv"
    edit(df).to_csv(out, index=False)
    return out


def test_tiny_csv_is_valid(tmp_path):
    rows = read_csv(write_lang(tmp_path, lambda df: df))
    bench = data._build(rows, True, "tiny")
    assert [c.label for c in bench] == ["NMT log-perplexity (6 Enc, 6 Dec)", "date_understanding 1-shot (262M)"]


def test_missing_column(tmp_path):
    bad = write_lang(tmp_path, lambda df: df.drop(columns="Training"))
    with pytest.raises(BenchmarkFormatError, match=r"bad\.csv: missing column\(s\) \['Training'\]"):
        read_csv(bad)


def test_non_numeric_value(tmp_path):
    def edit(df):
        df.loc[4, "Loss"] = "n/a"
        return df
    with pytest.raises(BenchmarkFormatError, match=r"line 6: column 'Loss'.*'n/a'"):
        read_csv(write_lang(tmp_path, edit))


def test_unknown_domain_and_training(tmp_path):
    def domain(df):
        df.loc[0, "Domain"] = "ASR"
        return df

    def training(df):
        df.loc[3, "Training"] = "2"
        return df
    with pytest.raises(BenchmarkFormatError, match="unknown domain.*'ASR'"):
        read_csv(write_lang(tmp_path, domain))
    with pytest.raises(BenchmarkFormatError, match="line 5: column 'Training'.*0 or 1"):
        read_csv(write_lang(tmp_path, training))


def test_unknown_task_code():
    rows = pd.DataFrame({"domain": ["IC", "IC"], "task": ["svhn_5"] * 2, "model": ["m"] * 2,
                         "x": [1.0, 2.0], "loss": [0.5, 0.4], "fit": [True, False]})
    with pytest.raises(BenchmarkFormatError, match="unknown IC task code 'svhn_5'"):
        data._build(rows, True, "test")


def test_empty_file(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(BenchmarkFormatError, match="not a readable CSV"):
        read_csv(tmp_path / "empty.csv")
