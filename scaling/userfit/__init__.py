"""Fitting your own learning curve (layer 7): reading a CSV (:mod:`.fit`), fitting every law with
bootstrap intervals and diagnostics, and drawing the result (:mod:`.plots`)."""

from .fit import (BOOT_SEARCHES, DEFAULT_AT_FACTORS, DEFAULT_BOOT, DEFAULT_ESTIMATOR, DEFAULT_LEVEL, ESTIMATORS,
                  MIN_POINTS, CurveFileError, LawFit, UserCurve, UserFit, bench_curves, check_outputs,
                  default_at, default_workers, fit_law, fit_user_curve, make_law, n_fit_points, prepare_curve,
                  read_curve_csv, released_options, resolve_laws, run_bench)

__all__ = ["CurveFileError", "UserCurve", "LawFit", "UserFit", "read_curve_csv", "prepare_curve", "resolve_laws",
           "make_law", "fit_law", "released_options", "n_fit_points", "default_at", "fit_user_curve",
           "default_workers", "check_outputs", "run_bench", "bench_curves", "MIN_POINTS",
           "DEFAULT_BOOT", "DEFAULT_LEVEL", "DEFAULT_AT_FACTORS", "ESTIMATORS", "DEFAULT_ESTIMATOR", "BOOT_SEARCHES"]
