"""The learning curves (layer 1: imports only the foundation layer).

* :mod:`.data` -- the paper's benchmark files: download or local folder, checksums, schema checks,
  one :class:`LearningCurve` per (domain, task, model).
* :mod:`.catalogue` -- the single home of the benchmark's facts: domains, datasets, tasks, models,
  the paper's laws and row names.
* :mod:`.synthetic` -- the paper's synthetic learning curves (logistic regression on the sphere).
"""

from .data import (BASE_URL, CACHE_DIR_ENV, DATA_DIR_ENV, DOMAINS, SHA256, UPSTREAM_COMMIT, Benchmark,
                   BenchmarkFormatError, ChecksumError, DownloadError, LearningCurve, benchmark_files, cache_dir, curve_list,
                   load_benchmark, load_benchmark_csv, read_csv, sha256)

__all__ = ["load_benchmark", "load_benchmark_csv", "benchmark_files", "read_csv", "cache_dir", "sha256", "Benchmark",
           "LearningCurve", "curve_list", "ChecksumError", "DownloadError", "BenchmarkFormatError", "SHA256", "BASE_URL",
           "UPSTREAM_COMMIT", "DOMAINS", "DATA_DIR_ENV", "CACHE_DIR_ENV"]
