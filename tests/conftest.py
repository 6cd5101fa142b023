"""Shared fixtures: the real benchmark, read from $SCALING_DATA_DIR (CI points it at ../shared/data)."""

import os

import pytest

from scaling.benchmark import DATA_DIR_ENV, load_benchmark


@pytest.fixture(scope="session")
def bench():
    if not os.environ.get(DATA_DIR_ENV):
        if os.environ.get("CI"):
            pytest.fail(f"CI must set ${DATA_DIR_ENV} to the folder holding the benchmark CSVs.")
        pytest.skip(f"set ${DATA_DIR_ENV} to the folder holding benchmark.vision.csv and benchmark.lang.csv")
    return load_benchmark()
