"""Every command: ``python -m scaling COMMAND [options]``; ``python -m scaling`` lists them.

Each command is a function ``name(argv) -> int`` here that parses its options, checks them and
calls the package's functions: ``benchmark`` (:func:`scaling.evaluate.run_benchmark`), ``ledger``
(:func:`scaling.ledger.build_ledger`), ``fit`` (:func:`scaling.userfit.fit_user_curve`) and ``perf``
(:func:`scaling.studies.performance.perf_report`). The work stays in those modules; the heavy
imports happen inside the commands, so ``python -m scaling --help`` stays fast.

Every command: ``--help`` on stdout, ``--version``; its options and output paths are checked before
any work; an expected failure (a bad option or input file, a missing or damaged benchmark file, no
network for the download, an output that cannot be written) is one line on stderr,
``python -m scaling COMMAND: error: ...``, with exit code 2 and no traceback; a reader that stops
early (``| head``) ends the command quietly. Progress goes to stderr (``--quiet``: none).
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import math
import os
import sys
import time
from pathlib import Path

from .outputs import check_outputs, write_all

# Figure 1 (bottom) of the paper, as reference data to print beside ours.
PAPER_WIN_FRACTIONS = {
    "IC": (0.04, 0.10, 0.16, 0.70), "NMT": (0.0, 0.2, 0.2, 0.8),
    "LM": (0.0, 0.4, 0.4, 0.8), "BB": (0.4, 0.4, 0.7, 0.7),
}
# The benchmark's estimators: the released code's (emulated), the global and a local minimum of Eq. 4,
# and the sound estimator (scaling.laws.sound).
PROG = "python -m scaling"


def _fail(command: str, message) -> int:
    """One line on stderr, exit code 2 (a bad input or option is the user's to fix, not a crash)."""
    print(f"{PROG} {command}: error: {' '.join(str(message).split())}", file=sys.stderr, flush=True)
    return 2


def _error(message) -> int:
    return _fail("benchmark", message)


def _expected_errors() -> tuple[type[BaseException], ...]:
    """The failures a command reports in one line: the benchmark files' (missing, damaged, not
    downloadable, malformed) and any OSError (a file that cannot be read or written)."""
    from .benchmark.data import BenchmarkFormatError, ChecksumError, DownloadError

    return (BenchmarkFormatError, ChecksumError, DownloadError, OSError)


def _reports_errors(command: str):
    """Decorator of a command: an expected failure (see :func:`_expected_errors`) becomes one line on
    stderr and exit code 2; anything else is a bug and keeps its traceback. A closed stdout is no
    failure of the command: :func:`main` handles it."""
    def wrap(func):
        @functools.wraps(func)
        def run(argv=None) -> int:
            try:
                return func(argv)
            except BrokenPipeError:
                raise
            except Exception as exc:
                if isinstance(exc, _expected_errors()):
                    return _fail(command, exc)
                raise
        return run
    return wrap


def _version() -> str:
    from . import __version__

    return f"{PROG} (scaling) {__version__}"


def _add_version(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--version", action="version", version=_version())
    return parser


def _quiet_downloads(quiet: bool) -> None:
    """``--quiet``: no "Downloading data from ..." line from pooch either (its logger writes it on stderr)."""
    if not quiet:
        return
    try:
        import pooch
    except ImportError:
        return
    import logging

    pooch.get_logger().setLevel(logging.WARNING)


def _say(*args, **kwargs) -> None:
    """``print`` on stdout that survives a reader who stopped (``| head``): the rest goes to devnull,
    and the command goes on (it may still have files to write)."""
    try:
        print(*args, **kwargs)
    except BrokenPipeError:
        _stdout_to_devnull()


def _stdout_to_devnull() -> None:
    """After a BrokenPipeError on stdout: send what is left to devnull, so that the flush at exit
    raises nothing (as the Python documentation recommends, "Note on SIGPIPE")."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _seconds(value: float) -> str:
    """'1,647 s', '7.9 s', '0.42 s'."""
    return f"{value:,.0f} s" if value >= 100 else f"{value:.1f} s" if value >= 1 else f"{value:.2f} s"


def _ratio(value: float) -> str:
    """'208x', '2.5x', '0.31x'."""
    return f"{value:,.0f}x" if value >= 10 else f"{value:.1f}x" if value >= 1 else f"{value:.2f}x"


def _benchmark_inputs(args) -> list[Path]:
    """The files this run reads: ``--csv``, else where the two benchmark CSVs would be taken from."""
    if args.csv:
        return list(args.csv)
    from .benchmark.data import DATA_DIR_ENV, SHA256, cache_dir

    folder = args.data_dir or (Path(os.environ[DATA_DIR_ENV]) if os.environ.get(DATA_DIR_ENV) else cache_dir())
    return [Path(folder).expanduser() / name for name in SHA256]


@_reports_errors("benchmark")
def benchmark(argv=None) -> int:
    from .evaluate import ESTIMATOR_DESCRIPTIONS as ESTIMATORS

    parser = _Parser(
        prog="python -m scaling benchmark",
        description="Fit M1-M4 (or other laws) on the paper's 92 benchmark curves, or on your own CSV files, and score "
                    "the extrapolation on the held-out points.")
    parser.add_argument("--estimator", choices=tuple(ESTIMATORS), default=None,
                        help="; ".join(f"{name}: {text}" for name, text in ESTIMATORS.items())
                        + " (default: released; it fits only M1-M4)")
    parser.add_argument("--search", choices=("global", "local"), help="deprecated: same as --estimator global|local")
    parser.add_argument("--csv", type=Path, action="append", metavar="FILE",
                        help="your own CSV in the benchmark's format (columns Domain, Task, Model, Seen Examples, "
                             "Loss, Training; Domain one of IC, NMT, LM, BB; Training 1 = fit, 0 = held out) "
                             "instead of the paper's benchmark; repeat for several files")
    parser.add_argument("--out", type=Path, help="write one CSV row per (curve, law) to this file; its column "
                                                 "diagnostics holds the fit's finding codes, ';'-joined (the "
                                                 "printed diagnostics count them)")
    parser.add_argument("--data-dir", type=Path, help="folder with the two benchmark CSVs (default: $SCALING_DATA_DIR,"
                                                      " else download)")
    parser.add_argument("--laws", default="paper",
                        help="comma-separated laws, 'paper' (M1-M4, the default) or 'all' (adds BNSL, Chinchilla;"
                             " not with --estimator released)")
    copies = parser.add_mutually_exclusive_group()
    copies.add_argument("--keep-duplicates", action="store_true",
                        help="keep exact duplicate rows (the paper's files have 687, all LM): they count in the"
                             " standard error. The default with --estimator released, as the released notebook"
                             " scores every held-out row")
    copies.add_argument("--drop-duplicates", action="store_true",
                        help="keep one copy of each exact duplicate row (the default with global and local)")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    _add_version(parser)
    args = parser.parse_args(argv)

    from .laws.paper import LAWS, PAPER_LAWS, resolve_law_name

    estimator = args.estimator or args.search or "released"
    if args.search:
        if args.estimator and args.estimator != args.search:
            return _error(f"--search {args.search} contradicts --estimator {args.estimator}; --search is a "
                          f"deprecated alias, give --estimator only.")
        print(f"note: --search is deprecated; use --estimator {args.search}.", file=sys.stderr)
    choice = args.laws.strip().lower()
    try:
        laws = (PAPER_LAWS if choice == "paper" else tuple(LAWS) if choice == "all"
                else tuple(dict.fromkeys(resolve_law_name(name) for name in args.laws.split(",") if name.strip())))
    except ValueError as exc:
        return _error(exc)
    if not laws:
        return _error("--laws names no law; give e.g. --laws M4,BNSL, 'paper' or 'all'.")
    if estimator == "released":
        other = [law for law in laws if law not in PAPER_LAWS]
        if other:
            return _error(f"--estimator released fits only {', '.join(PAPER_LAWS)}, not {', '.join(other)}; "
                          f"drop them from --laws or use --estimator global.")
    if args.csv and args.data_dir:
        return _error("--csv and --data-dir exclude each other: --csv reads your files, --data-dir the paper's.")
    if args.out is not None:
        problem = check_outputs({"--out": args.out}, _benchmark_inputs(args))
        if problem:
            return _error(problem)
    keep = args.keep_duplicates or (estimator == "released" and not args.drop_duplicates)
    _quiet_downloads(args.quiet)

    from .benchmark.data import BenchmarkFormatError, ChecksumError, DownloadError, load_benchmark, load_benchmark_csv
    from .evaluate import run_benchmark, win_fractions

    start = time.perf_counter()
    try:
        bench = (load_benchmark_csv(args.csv, drop_duplicates=not keep) if args.csv
                 else load_benchmark(args.data_dir, drop_duplicates=not keep))
    except (BenchmarkFormatError, ChecksumError, DownloadError, FileNotFoundError) as exc:
        return _error(exc)
    _say(bench.summary(), flush=True)
    _say(f"estimator: {estimator} ({ESTIMATORS[estimator]})"
          + ("; exact duplicate rows kept: they count in the standard error" if keep else ""))
    if estimator == "released":
        from .laws.released import warm_up

        compile_seconds = warm_up()  # one-off: numba compiles the kernels on first use, then caches them
        _say(f"compiled kernels ready in {_seconds(compile_seconds)} (compiled on the first run, then loaded "
              f"from numba's cache); not counted below")
        start += compile_seconds
    res = run_benchmark(bench, laws=laws, progress=not args.quiet, stream=sys.stderr, estimator=estimator)
    total = time.perf_counter() - start

    from .evaluate import FIGURE1_TIE_RULE

    rules = (("the paper's Figure 1 rule: IC splits ties, NMT/LM/BB credit every tied law", FIGURE1_TIE_RULE),
             ("ties split", "split"), ("ties credited to every tied law", "credit-all"))
    for label, rule in rules:
        ours = win_fractions(res, rule=rule)
        _say(f"\nFraction of curves on which each law extrapolates best ({label}; RMSE truncated to 3 decimals)")
        lines = []
        for domain, row in ours.iterrows():
            paper = PAPER_WIN_FRACTIONS.get(domain)
            cells = "  ".join(f"{law} {row[law]:.2f}" for law in ours.columns)
            ref = "  (paper, M1-M4: " + " / ".join(f"{v:.2f}" for v in paper) + ")" if paper else ""
            lines.append(f"  {domain:>3}: {cells}{ref}")
        _say("\n".join(lines))
    failed = int(res["rmse"].isna().sum())
    not_converged = int((~res["converged"].fillna(False).astype(bool)).sum())
    summary = f"{len(res)} fits ({failed} failed, {not_converged} not converged) plus evaluation in {_seconds(total)}"
    if estimator == "released" and not args.csv and set(laws) <= set(PAPER_LAWS):
        # The released code's own time for the same fits (only these are the same fits): its measured
        # single-core fit times (package data).
        from .ledger.reference import released_seconds

        released = released_seconds(laws)
        summary += f"; the released code took {_seconds(released)} for the same fits ({_ratio(released / total)})"
    _say(f"\n{summary}.")
    per_law = res.groupby("law")["fit_seconds"].agg(["mean", "max"])
    _say("seconds per fit: " + ", ".join(f"{law} mean {r['mean'] * 1e3:.1f} ms / max {r['max'] * 1e3:.1f} ms"
                                          for law, r in per_law.iterrows()))
    from .diagnostics import benchmark_lines, diagnose_benchmark

    # after the timing above: a fit's diagnostics judge its parameters and are no part of fitting
    findings = diagnose_benchmark(res, bench, estimator)
    res["diagnostics"] = [";".join(dict.fromkeys(f["code"] for f in found)) for found in findings]
    _say("\nDiagnostics: fits flagged per law and finding, per domain (flagged/fits; each fit's codes are the "
          "--out column diagnostics)")
    _say("\n".join(benchmark_lines(res, findings)))
    if args.out:
        try:
            write_all({args.out: lambda path: res.to_csv(path, index=False)})
        except OSError as exc:
            return _error(f"could not write {args.out}: {exc}")
        _say(f"wrote {len(res)} rows to {args.out}")
    return 0


# ---------------------------------------------------------------------------------------------- ledger
def _ledger_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m scaling ledger",
        description="Compare every number the paper reports with what the scaling package computes: "
                    "the released code's method (ours) and the global fits (ours_global), with a "
                    "status for each and a cause for every row that does not agree; write it as CSV.",
    )
    p.add_argument("--out", required=True, type=Path, help="CSV file to write")
    p.add_argument("--only", action="append", metavar="SOURCE",
                   help="restrict to one paper source, e.g. 'Table 2' (repeatable)")
    p.add_argument("--no-compute", action="store_true",
                   help="run no producer: list the paper's numbers with status not-yet")
    p.add_argument("--no-variants", action="store_true",
                   help="skip the protocol-variant sweep (no 'variant:' causes; faster)")
    p.add_argument("--variants", type=Path, metavar="FILE",
                   help="also write the variant sweep (one row per item and variant) to this CSV")
    p.add_argument("--quiet", action="store_true", help="print nothing (no progress lines on stderr either)")
    return _add_version(p)


def _ledger_inputs() -> list[Path]:
    """The files the ledger reads: the paper's reference numbers, the released code's outputs and
    the two benchmark CSVs (where they would be taken from)."""
    from .ledger.core import REFERENCE_PATH
    from .ledger.reference import RELEASED_OUTPUTS_FILE

    reference = Path(__file__).resolve().parent / "ledger" / "reference" / RELEASED_OUTPUTS_FILE
    try:
        bench = _benchmark_inputs(argparse.Namespace(csv=None, data_dir=None))
    except ImportError:  # no pooch: nothing would be downloaded, so nothing in its cache is read
        bench = []
    return [REFERENCE_PATH, reference, *bench]


@_reports_errors("ledger")
def ledger(argv=None) -> int:
    """``python -m scaling ledger --out FILE [--only SOURCE ...] [--no-compute] [--no-variants]
    [--variants FILE] [--quiet]``.

    ``argv`` are the arguments after ``ledger`` (a leading ``"ledger"`` is tolerated). Writes the
    ledger CSV (columns ``LEDGER_COLUMNS``), prints the status counts (released emulation and global
    fits) and the cause counts, and returns 0. ``--out`` and ``--variants`` are checked before any
    work (returns 2 with one line on stderr); progress goes to stderr unless ``--quiet``.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["ledger"]:
        argv = argv[1:]
    parser = _ledger_parser()
    args = parser.parse_args(argv)
    if args.variants and (args.no_variants or args.no_compute):
        parser.error("--variants FILE needs the sweep; drop --no-variants / --no-compute")
    outputs = {"--out": args.out, **({"--variants": args.variants} if args.variants else {})}
    problem = check_outputs(outputs, _ledger_inputs())
    if problem:
        return _fail("ledger", problem)
    from .ledger import build_ledger, load_reference, summarize, summarize_causes

    _quiet_downloads(args.quiet)

    if args.only:
        known = set(load_reference()["source"])
        unknown = sorted(set(args.only) - known)
        if unknown:
            parser.error(f"unknown --only source(s) {unknown}; choose from {sorted(known)}")
    from . import studies  # noqa: F401  (the studies register the producers of Figures 2 and 3)

    table, tidy = build_ledger(args.only, compute=not args.no_compute, variants=not args.no_variants,
                               progress=not args.quiet, with_sweep=True)
    if args.variants and tidy is None:
        from .ledger.variants import sweep

        tidy = sweep(sources=[])
    writers = {args.out: lambda path: table.to_csv(path, index=False, encoding="utf-8")}
    if args.variants:
        writers[args.variants] = lambda path: tidy.to_csv(path, index=False, encoding="utf-8")
    try:
        write_all(writers)
    except OSError as exc:
        return _fail("ledger", f"could not write {' or '.join(map(str, writers))}: {exc}; no output file was "
                               "written.")
    if not args.quiet:
        _say("Status, ours = the released code's method (emulated):")
        _say(summarize(table).to_string())
        _say("\nStatus, ours_global = the global minimum of the paper's loss:")
        _say(summarize(table, "status_global").to_string())
        _say("\nCause of every row that does not agree (ours):")
        _say(summarize_causes(table).to_string())
        counts = table.loc[table["cause"] != "", "cause"].value_counts()
        if len(counts):
            _say("\n" + "\n".join(f"  {n:4d}  {cause}" for cause, n in counts.items()))
        _say(f"wrote {len(table)} rows to {args.out}")
        if args.variants:
            _say(f"wrote {len(tidy)} variant rows to {args.variants}")
    return 0


# ---------------------------------------------------------------------------------------------- fit
def _number_type(accept, requirement: str):
    """An argparse ``type``: a float for which ``accept(value)`` holds, else a message with ``requirement``."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"{text} must {requirement}")
        return value
    return parse


_fraction = _number_type(lambda v: 0.0 <= v < 1.0, "satisfy 0 <= F < 1 (e.g. 0.3)")
_level = _number_type(lambda v: 0.0 < v < 1.0, "lie strictly between 0 and 1 (e.g. 0.9)")
_positive = _number_type(lambda v: math.isfinite(v) and v > 0, "be a finite number > 0")


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} must be >= 0")
    return value


def _workers(text: str) -> int:
    value = _count(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be >= 1")
    return value


def _at_list(text: str) -> list[float]:
    return [_positive(t) for t in text.split(",") if t.strip()]


class _Parser(argparse.ArgumentParser):
    """``fit`` and ``perf``: argparse's exit code 2, with a pointer to --help."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def fit_parser() -> argparse.ArgumentParser:
    from .laws.paper import LAWS
    from .userfit.fit import (BOOT_SEARCHES, DEFAULT_BOOT, DEFAULT_ESTIMATOR, DEFAULT_LEVEL, ESTIMATORS,
                              LOSS_ALIASES, MIN_POINTS, PROG, X_ALIASES, default_workers)

    laws = ", ".join(LAWS)
    estimators = "\n".join(f"  {name:<9} {text}" + (" (default)" if name == DEFAULT_ESTIMATOR else "")
                           for name, text in ESTIMATORS.items())
    parser = _Parser(
        prog=PROG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Fit scaling laws to your own learning curve, score their extrapolation on the largest-x "
                    "points, and bootstrap intervals for their parameters and predictions.",
        epilog=f"""\
input file:
  A CSV with a header line; columns x and loss (any case; aliases {', '.join(X_ALIASES[1:])} for x and
  {', '.join(LOSS_ALIASES[1:])} for loss, or --x-col/--loss-col). Blank lines and lines starting with # are
  skipped, extra columns ignored, rows sorted by x, exact repeated rows kept once. Values must be finite
  and > 0; the same x with different losses is an error (average them). At least {MIN_POINTS} points.

estimators (--estimator):
{estimators}
  Under eq4, M2 and M4 often collapse to a plain power law (eps_inf = 0, alpha = 0); the sound
  estimator minimises the error of the predicted log loss, which the extrapolation is scored in.

M4 and eps0:
  M4 bends towards eps0, the loss of random guessing (1 for an error rate, log(vocabulary) for a
  cross-entropy in nats). --eps0 fixes it; without it eps0 is learned above the largest loss.

diagnostics:
  Every law's fit is checked and the findings printed (and in the JSON under laws.<LAW>.diagnostics):
  a law that reduced to a simpler one (M2 with eps_inf = 0 is M1), a plateau above the data, a
  parameter at an extreme magnitude, a BNSL break at the edge of the data, a bootstrap interval that
  spans orders of magnitude, an optimiser that did not converge.

what the bootstrap intervals mean:
  The fitted points are resampled with replacement and every law refitted, so the intervals show how
  much the noise in the points moves the fit, treating the points as exchangeable. They do not show
  whether the law has the right shape for your curve (check the holdout RMSE for that), and they are
  too narrow when the noise is correlated along the curve (one run measured at many checkpoints).
  Failed refits are left out and counted; refits ending on a constraint (eps_inf = 0, alpha = 0, ...)
  are kept and counted. --boot-search warm (default) starts each refit from the fit to all points
  (fast; the sound estimator and BNSL/Chinchilla), full repeats each law's whole search per refit.

output files:
  --out, --json and --plot never name the input file (refused before any work, symlinks included),
  and none is written unless all of them can be: each is written to a temporary file first.

speed:
  --bench times this command on a 40-point curve with the defaults (target: under 5 s) and on a
  100,000-point curve with --boot 0 (targets: under 30 s and 500 MB), and prints the figures with
  the machine's load; nothing else is needed.

example:
  {PROG} my_curve.csv --law m4 --holdout 0.3 --plot fit.png

exit status: 0 on success, 2 for bad options or a file that cannot be fitted (message on stderr).""")
    parser.add_argument("csv", type=Path, nargs="?", help="the learning curve: a CSV file with columns x and loss")
    parser.add_argument("--law", default="all",
                        help=f"'all' (default) or one law or a comma list, any case; laws: {laws}")
    parser.add_argument("--estimator", choices=tuple(ESTIMATORS), default=DEFAULT_ESTIMATOR,
                        help=f"how M1-M4 are fitted (default {DEFAULT_ESTIMATOR}; see below)")
    parser.add_argument("--holdout", type=_fraction, default=0.0, metavar="F",
                        help="hold out the largest-x fraction F of the points (0 <= F < 1) and score the laws' "
                             "extrapolation on them; default 0: fit every point, no score")
    parser.add_argument("--at", type=_at_list, action="append", metavar="X",
                        help="predict the loss at X (repeat or comma-separate); default: 10x and 100x the "
                             "largest x")
    parser.add_argument("--boot", type=_count, default=DEFAULT_BOOT, metavar="N",
                        help=f"bootstrap refits per law (default {DEFAULT_BOOT}; 0: no intervals)")
    parser.add_argument("--boot-search", choices=BOOT_SEARCHES, default="warm",
                        help="warm (default): each refit starts from the fit to all points; full: each refit "
                             "runs the law's whole search (slow)")
    parser.add_argument("--level", type=_level, default=DEFAULT_LEVEL,
                        help=f"coverage of the percentile intervals (default {DEFAULT_LEVEL})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap resampling (default 0)")
    parser.add_argument("--workers", type=_workers, default=None, metavar="N",
                        help=f"processes for the bootstrap (default: the usable cores, at most 4; here "
                             f"{default_workers()})")
    parser.add_argument("--eps0", type=_positive, metavar="VALUE",
                        help="fix M4's eps0 (random-guessing loss); default: learn it above the largest loss")
    parser.add_argument("--eps0-max", type=_positive, metavar="VALUE",
                        help="upper bound of a learned eps0 (default: 101 x the largest loss for the sound "
                             "estimator, 10 * max(1, largest loss) for eq4)")
    parser.add_argument("--x-col", metavar="NAME", help="name of the x column (default: x or an alias)")
    parser.add_argument("--loss-col", metavar="NAME", help="name of the loss column (default: loss or an alias)")
    parser.add_argument("--plot", type=Path, metavar="FILE", help="save a figure (PNG, PDF or SVG by extension)")
    parser.add_argument("--out", type=Path, metavar="FILE", help="write every number to a tidy CSV")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the results as JSON ('-' for stdout)")
    parser.add_argument("--quiet", action="store_true", help="no progress line on stderr")
    parser.add_argument("--bench", action="store_true",
                        help="time this command on two generated curves against its speed and memory targets "
                             "(no CSV needed) and print the figures")
    return _add_version(parser)


@_reports_errors("fit")
def fit(argv=None) -> int:
    """``python -m scaling fit CURVE.csv [options]``: fit every law to a user's curve; returns the exit code.
    Bad options exit through argparse (``SystemExit(2)``); a file that cannot be fitted returns 2."""
    parser = fit_parser()
    args = parser.parse_args(argv)
    from .userfit.fit import PROG, check_outputs as check_fit_outputs, fit_user_curve, read_curve_csv, run_bench

    if args.bench:
        return run_bench(estimator=args.estimator, workers=args.workers)
    if args.csv is None:
        parser.error("the following arguments are required: csv")
    if args.eps0 is not None and args.eps0_max is not None:
        parser.error("give --eps0 (fixed) or --eps0-max (bound of a learned eps0), not both")
    at = None if args.at is None else [v for group in args.at for v in group]
    outputs = {opt: path for opt, path in (("--out", args.out), ("--json", args.json), ("--plot", args.plot))
               if path is not None and not (opt == "--json" and str(path) == "-")}
    problem = check_fit_outputs(outputs, [args.csv])
    if problem:
        print(f"{PROG}: error: {problem}", file=sys.stderr)
        return 2
    try:
        curve = read_curve_csv(args.csv, x_col=args.x_col, loss_col=args.loss_col)
        result = fit_user_curve(curve, laws=args.law, holdout=args.holdout, n_boot=args.boot, level=args.level,
                                seed=args.seed, at=at, eps0=args.eps0, eps0_max=args.eps0_max,
                                progress=None if args.quiet else sys.stderr, estimator=args.estimator,
                                boot_search=args.boot_search, workers=args.workers)
    except (ValueError, OSError) as exc:  # bad input: one line on stderr, argparse's exit code
        print(f"{PROG}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    try:
        print(json.dumps(result.to_dict(), indent=2) if str(args.json) == "-" else result.report(), flush=True)
    except BrokenPipeError:  # the reader stopped early (``| head``): not an error of the fit
        _stdout_to_devnull()  # keep the exit-time flush quiet; the output files are still written
    writers = {}
    if "--out" in outputs:
        writers[args.out] = lambda tmp: result.to_frame().to_csv(tmp, index=False)
    if "--json" in outputs:
        writers[args.json] = lambda tmp: tmp.write_text(json.dumps(result.to_dict(), indent=2))
    if "--plot" in outputs:
        def plot(tmp):
            import matplotlib

            matplotlib.use("Agg")  # a command line tool must not need a display
            from .userfit.plots import save_user_fit_plot

            save_user_fit_plot(result, tmp)
        writers[args.plot] = plot
    try:
        write_all(writers)
    except (ValueError, OSError) as exc:
        print(f"{PROG}: error: could not write an output file: {' '.join(str(exc).split())}; no output file "
              "was written.", file=sys.stderr)
        return 2
    for path in writers:
        print(f"wrote {path}", file=sys.stderr)
    return 0


# ---------------------------------------------------------------------------------------------- perf
PERF_PROG = "python -m scaling perf"


def _split_list(text: str) -> list[str]:
    return [t for t in (s.strip() for s in text.split(",")) if t]


def perf_parser() -> argparse.ArgumentParser:
    from .laws.released import LAWS_RELEASED
    from .studies.performance import DEFAULT_SIZES, FAST_BELOW

    parser = _Parser(
        prog=PERF_PROG,
        description="Time the benchmark fits three ways: the released code's own measured times (reference data, "
                    "not re-run), our exact emulation of the same algorithm (one process, threads across curves), "
                    "and our global fits (a different estimator). Prints per-law ratios, totals and the speed "
                    "target (368 fits plus evaluation under 10 s on two cores). Wall-clock times: they depend on "
                    "the machine and its load.")
    parser.add_argument("--curves", type=int, default=None, metavar="N",
                        help="time the first N curves of each domain (default: all 92 curves)")
    parser.add_argument("--n-jobs", type=int, default=None, metavar="J",
                        help="threads of the whole-benchmark emulation run (default: every core); per-fit "
                             "times always come from a one-thread run, like the released times")
    parser.add_argument("--literal-curves", type=int, default=1, metavar="K",
                        help="time the literal walk (M2, M4) on the first K curves of each domain (default 1; "
                             "0 skips it; a large K takes every curve, about a minute)")
    parser.add_argument("--laws", default=None, help="laws of the global fits, comma-separated "
                                                     "(default: every registered law)")
    parser.add_argument("--released-laws", default=None,
                        help=f"laws of the released algorithm, comma-separated (default: {','.join(LAWS_RELEASED)})")
    parser.add_argument("--repeats", type=int, default=3, metavar="R",
                        help=f"in the growth measurement, repeat a timing up to R times while its runs took < "
                             f"{FAST_BELOW} s in all; keep the median (default 3)")
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="point counts of the growth measurement, comma-separated ('' skips it)")
    parser.add_argument("--compile", action="store_true",
                        help="also measure the one-off compile of the kernels in a fresh process with an empty "
                             "numba cache (several seconds)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument("--data-dir", default=None, help="folder with the benchmark CSVs "
                                                         "(default: $SCALING_DATA_DIR, else download)")
    return _add_version(parser)


@_reports_errors("perf")
def perf(argv=None) -> int:
    """``python -m scaling perf``: the released code's measured times, our emulation and our global fits.
    Returns the exit code, also for --help and bad options (no ``SystemExit``)."""
    parser = perf_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (exit 0, on stdout) or a bad option (one line on stderr, exit 2)
        return int(exc.code or 0)
    from .studies.performance import perf_report, perf_settings

    try:
        if args.curves is not None and args.curves < 1:
            raise ValueError(f"--curves must be >= 1, got {args.curves}.")
        if args.n_jobs is not None and args.n_jobs < 1:
            raise ValueError(f"--n-jobs must be >= 1, got {args.n_jobs}.")
        if args.literal_curves < 0:
            raise ValueError(f"--literal-curves must be >= 0, got {args.literal_curves}.")
        if args.repeats < 1:
            raise ValueError(f"--repeats must be >= 1, got {args.repeats}.")
        try:
            sizes = tuple(int(s) for s in _split_list(args.sizes))
        except ValueError:
            raise ValueError(f"--sizes must be comma-separated integers, got {args.sizes!r}.") from None
        laws, rel_laws, sizes = perf_settings(_split_list(args.laws) if args.laws else None,
                                              _split_list(args.released_laws) if args.released_laws else None, sizes)
    except ValueError as exc:
        print(f"{PERF_PROG}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2

    from .benchmark.data import load_benchmark

    _quiet_downloads(args.quiet)
    start = time.perf_counter()  # "Done in" counts the loading too
    try:
        bench = load_benchmark(args.data_dir, drop_duplicates=False)  # scored as the released notebook does
        bench_global = load_benchmark(args.data_dir)
    except (OSError, ValueError) as exc:
        print(f"{PERF_PROG}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    perf_report(bench, bench_global, laws=laws, released_laws=rel_laws, sizes=sizes, per_domain=args.curves,
                n_jobs=args.n_jobs, literal_curves=args.literal_curves, repeats=args.repeats,
                cold_compile=args.compile, out=sys.stdout, progress=None if args.quiet else sys.stderr, started=start)
    return 0


# Each command is a function of this module: (module, function, one line for the listing).
COMMANDS = {
    "benchmark": (__name__, "benchmark", "fit M1-M4 on the 92 curves (or your CSV) and print the win fractions"),
    "ledger": (__name__, "ledger", "write the paper-vs-ours reproduction ledger to a CSV"),
    "fit": (__name__, "fit", "fit scaling laws to your own learning curve (a CSV of x, loss)"),
    "perf": (__name__, "perf",
             "time the emulation of the released code and every law against the released code's own times"),
}


def _usage() -> str:
    listing = "\n".join(f"  {name:<10} {spec[2]}" for name, spec in COMMANDS.items())
    return (f"usage: {PROG} COMMAND [options]   (add --help after a command)\n\ncommands:\n{listing}\n\n"
            f"options:\n  -h, --help  show this help and exit\n  --version   show the version and exit\n\n"
            f"Every command prints its results on stdout and its progress on stderr (--quiet: none); an error is "
            f"one line on stderr\nwith exit code 2.")


def main(argv=None) -> int:
    """``python -m scaling COMMAND [options]``: run the command; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    done = []  # the command's exit code, once it has one
    try:
        done.append(_dispatch(argv))
        sys.stdout.flush()  # here, not at exit: a reader that stopped early is seen below
    except BrokenPipeError:  # ``| head``: the reader has what it wanted; end quietly
        _stdout_to_devnull()
        return done[0] if done else 1
    except KeyboardInterrupt:
        print(f"{PROG}{' ' + argv[0] if argv[:1] and argv[0] in COMMANDS else ''}: interrupted", file=sys.stderr)
        return 130
    return done[0]


def _dispatch(argv: list[str]) -> int:
    if argv[:1] in (["-h"], ["--help"]):
        print(_usage())
        return 0
    if argv[:1] in (["-V"], ["--version"]):
        print(_version())
        return 0
    if not argv or argv[0] not in COMMANDS:
        problem = (f"unknown command {argv[0]!r}" if argv else "no command given") + \
            f"; choose one of {', '.join(COMMANDS)} (see {PROG} --help)"
        print(f"{PROG}: error: {problem}", file=sys.stderr)
        return 2
    module, func, _ = COMMANDS[argv[0]]
    return getattr(importlib.import_module(module), func)(argv[1:])
