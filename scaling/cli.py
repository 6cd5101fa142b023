"""Every command: ``python -m scaling COMMAND [options]``; ``python -m scaling`` lists them.

``benchmark`` and ``ledger`` are defined here; ``fit`` and ``perf`` parse their options in
:mod:`scaling.userfit.fit` and :mod:`scaling.studies.performance`, and are dispatched from here.
"""

from __future__ import annotations

import argparse
import importlib
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
ESTIMATORS = {
    "released": "the paper's method, emulating the authors' released code",
    "global": "the global minimum of the paper's loss, Eq. 4",
    "local": "a local descent from the released code's starting point",
    "sound": "each law fitted on log loss, the quantity extrapolation is scored in",
}


def _error(message) -> int:
    """One line on stderr, exit code 2 (a bad input or option is the user's to fix, not a crash)."""
    print(f"python -m scaling benchmark: error: {' '.join(str(message).split())}", file=sys.stderr)
    return 2


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


def benchmark(argv) -> int:
    parser = argparse.ArgumentParser(
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

    from .benchmark.data import BenchmarkFormatError, ChecksumError, DownloadError, load_benchmark, load_benchmark_csv
    from .evaluate import run_benchmark, win_fractions

    start = time.perf_counter()
    try:
        bench = (load_benchmark_csv(args.csv, drop_duplicates=not keep) if args.csv
                 else load_benchmark(args.data_dir, drop_duplicates=not keep))
    except (BenchmarkFormatError, ChecksumError, DownloadError, FileNotFoundError) as exc:
        return _error(exc)
    print(bench.summary())
    print(f"estimator: {estimator} ({ESTIMATORS[estimator]})"
          + ("; exact duplicate rows kept: they count in the standard error" if keep else ""))
    if estimator == "released":
        from .laws.released import warm_up

        compile_seconds = warm_up()  # one-off: numba compiles the kernels on first use, then caches them
        print(f"compiled kernels ready in {_seconds(compile_seconds)} (compiled on the first run, then loaded "
              f"from numba's cache); not counted below")
        start += compile_seconds
    res = run_benchmark(bench, laws=laws, progress=not args.quiet, stream=sys.stderr, estimator=estimator)
    total = time.perf_counter() - start

    from .evaluate import FIGURE1_TIE_RULE

    rules = (("the paper's Figure 1 rule: IC splits ties, NMT/LM/BB credit every tied law", FIGURE1_TIE_RULE),
             ("ties split", "split"), ("ties credited to every tied law", "credit-all"))
    for label, rule in rules:
        ours = win_fractions(res, rule=rule)
        print(f"\nFraction of curves on which each law extrapolates best ({label}; RMSE truncated to 3 decimals)")
        lines = []
        for domain, row in ours.iterrows():
            paper = PAPER_WIN_FRACTIONS.get(domain)
            cells = "  ".join(f"{law} {row[law]:.2f}" for law in ours.columns)
            ref = "  (paper, M1-M4: " + " / ".join(f"{v:.2f}" for v in paper) + ")" if paper else ""
            lines.append(f"  {domain:>3}: {cells}{ref}")
        print("\n".join(lines))
    failed = int(res["rmse"].isna().sum())
    not_converged = int((~res["converged"].fillna(False).astype(bool)).sum())
    summary = f"{len(res)} fits ({failed} failed, {not_converged} not converged) plus evaluation in {_seconds(total)}"
    if estimator == "released" and not args.csv and set(laws) <= set(PAPER_LAWS):
        # The released code's own time for the same fits (only these are the same fits): its measured
        # single-core fit times (package data).
        from .ledger.reference import released_seconds

        released = released_seconds(laws)
        summary += f"; the released code took {_seconds(released)} for the same fits ({_ratio(released / total)})"
    print(f"\n{summary}.")
    per_law = res.groupby("law")["fit_seconds"].agg(["mean", "max"])
    print("seconds per fit: " + ", ".join(f"{law} mean {r['mean'] * 1e3:.1f} ms / max {r['max'] * 1e3:.1f} ms"
                                          for law, r in per_law.iterrows()))
    from .diagnostics import benchmark_lines, diagnose_benchmark

    # after the timing above: a fit's diagnostics judge its parameters and are no part of fitting
    findings = diagnose_benchmark(res, bench, estimator)
    res["diagnostics"] = [";".join(dict.fromkeys(f["code"] for f in found)) for found in findings]
    print("\nDiagnostics: fits flagged per law and finding, per domain (flagged/fits; each fit's codes are the "
          "--out column diagnostics)")
    print("\n".join(benchmark_lines(res, findings)))
    if args.out:
        try:
            write_all({args.out: lambda path: res.to_csv(path, index=False)})
        except OSError as exc:
            return _error(f"could not write {args.out}: {exc}")
        print(f"wrote {len(res)} rows to {args.out}")
    return 0


# ---------------------------------------------------------------------------------------------- ledger
def _ledger_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
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
    p.add_argument("--quiet", action="store_true", help="print nothing")
    return p


def ledger(argv=None) -> int:
    """``python -m scaling ledger --out FILE [--only SOURCE ...] [--no-compute] [--no-variants]
    [--variants FILE] [--quiet]``.

    ``argv`` are the arguments after ``ledger`` (a leading ``"ledger"`` is tolerated). Writes the
    ledger CSV (columns ``LEDGER_COLUMNS``), prints the status counts (released emulation and global
    fits) and the cause counts, and returns 0.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["ledger"]:
        argv = argv[1:]
    parser = _ledger_parser()
    args = parser.parse_args(argv)

    from . import studies  # noqa: F401  (the studies register the producers of Figures 2 and 3)
    from .ledger import build_ledger, load_reference, summarize, summarize_causes

    if args.only:
        known = set(load_reference()["source"])
        unknown = sorted(set(args.only) - known)
        if unknown:
            parser.error(f"unknown --only source(s) {unknown}; choose from {sorted(known)}")
    if args.variants and (args.no_variants or args.no_compute):
        parser.error("--variants FILE needs the sweep; drop --no-variants / --no-compute")
    table, skipped, tidy = build_ledger(args.only, compute=not args.no_compute, variants=not args.no_variants,
                                        progress=not args.quiet, with_sweep=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False, encoding="utf-8")
    if args.variants:
        if tidy is None:
            from .ledger.variants import sweep

            tidy = sweep(sources=[])
        args.variants.parent.mkdir(parents=True, exist_ok=True)
        tidy.to_csv(args.variants, index=False, encoding="utf-8")
    if not args.quiet:
        for name, reason in skipped.items():
            print(f"skipped producer {name}: {reason}")
        print("Status, ours = the released code's method (emulated):")
        print(summarize(table).to_string())
        print("\nStatus, ours_global = the global minimum of the paper's loss:")
        print(summarize(table, "status_global").to_string())
        print("\nCause of every row that does not agree (ours):")
        print(summarize_causes(table).to_string())
        counts = table.loc[table["cause"] != "", "cause"].value_counts()
        if len(counts):
            print("\n" + "\n".join(f"  {n:4d}  {cause}" for cause, n in counts.items()))
        print(f"wrote {len(table)} rows to {args.out}")
        if args.variants:
            print(f"wrote {len(tidy)} variant rows to {args.variants}")
    return 0


# Each command is a ``main(argv) -> int`` in its own module, imported only when it is run.
COMMANDS = {
    "benchmark": (__name__, "benchmark", "fit M1-M4 on the 92 curves (or your CSV) and print the win fractions"),
    "ledger": (__name__, "ledger", "write the paper-vs-ours reproduction ledger to a CSV"),
    "fit": ("scaling.userfit.fit", "main", "fit scaling laws to your own learning curve (a CSV of x, loss)"),
    "perf": ("scaling.studies.performance", "main",
             "time the emulation of the released code and every law against the released code's own times"),
}


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = COMMANDS
    if not argv or argv[0] not in commands:
        listing = "\n".join(f"  {name:<10} {spec[2]}" for name, spec in commands.items())
        problem = f"unknown command {argv[0]!r}\n" if argv and argv[0] not in ("-h", "--help") else ""
        print(f"{problem}usage: python -m scaling COMMAND [options]   (add --help after a command)\n"
              f"commands:\n{listing}", file=sys.stderr)
        return 0 if argv[:1] in (["-h"], ["--help"]) else 2
    module, func, _ = commands[argv[0]]
    return getattr(importlib.import_module(module), func)(argv[1:])


