"""Command line: ``python -m scaling COMMAND [options]``; ``python -m scaling`` lists the commands."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import time
from pathlib import Path

# The released implementation, measured on a 2-core machine of this project's kind (issue #2):
# 2-35 s per M2 or M4 fit, 27 minutes for all 368 fits.
RELEASED_TOTAL_SECONDS = 27 * 60
TARGET_TOTAL_SECONDS = 5.0
# Figure 1 (bottom) of the paper, as reference data to print beside ours.
PAPER_WIN_FRACTIONS = {
    "IC": (0.04, 0.10, 0.16, 0.70), "NMT": (0.0, 0.2, 0.2, 0.8),
    "LM": (0.0, 0.4, 0.4, 0.8), "BB": (0.4, 0.4, 0.7, 0.7),
}


def _benchmark(argv) -> int:
    parser = argparse.ArgumentParser(prog="python -m scaling benchmark",
                                     description="Fit M1-M4 on all 92 benchmark curves and score the extrapolation.")
    parser.add_argument("--out", type=Path, help="write one CSV row per (curve, law) to this file")
    parser.add_argument("--data-dir", type=Path, help="folder with the two benchmark CSVs (default: $SCALING_DATA_DIR,"
                                                      " else download)")
    parser.add_argument("--search", choices=("global", "local"), default="global",
                        help="M2/M4 optimiser: global (default) or local descent from the released code's start")
    parser.add_argument("--laws", default="paper",
                        help="comma-separated laws, 'paper' (M1-M4, the default) or 'all' (adds BNSL, Chinchilla)")
    parser.add_argument("--keep-duplicates", action="store_true", help="keep the 687 exact duplicate rows")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    args = parser.parse_args(argv)

    from .data import load_benchmark
    from .evaluate import run_benchmark, win_fractions
    from .laws import LAWS, PAPER_LAWS, resolve_law_name

    choice = args.laws.strip().lower()
    try:
        laws = (PAPER_LAWS if choice == "paper" else tuple(LAWS) if choice == "all"
                else tuple(resolve_law_name(name) for name in args.laws.split(",") if name.strip()))
    except ValueError as exc:
        parser.error(str(exc))
    if not laws:
        parser.error("--laws names no law; give e.g. --laws M4,BNSL, 'paper' or 'all'.")

    start = time.perf_counter()
    bench = load_benchmark(args.data_dir, drop_duplicates=not args.keep_duplicates)
    print(bench.summary())
    settings = {"M2": {"search": args.search}, "M4": {"search": args.search}}
    res = run_benchmark(bench, laws=laws, progress=not args.quiet, settings=settings)
    total = time.perf_counter() - start

    for rule in ("split", "credit-all"):
        ours = win_fractions(res, rule=rule)
        print(f"\nFraction of curves on which each law extrapolates best (rule {rule!r}, RMSE truncated to 3 decimals)")
        lines = []
        for domain, row in ours.iterrows():
            paper = PAPER_WIN_FRACTIONS.get(domain)
            cells = "  ".join(f"{law} {row[law]:.2f}" for law in ours.columns)
            ref = "  (paper, M1-M4: " + " / ".join(f"{v:.2f}" for v in paper) + ")" if paper else ""
            lines.append(f"  {domain:>3}: {cells}{ref}")
        print("\n".join(lines))
    failed = int(res["rmse"].isna().sum())
    not_converged = int((~res["converged"].astype(bool)).sum())
    speed = ""
    if set(laws) == set(PAPER_LAWS):
        speed = (f" (target < {TARGET_TOTAL_SECONDS:.0f} s; the released code needs about"
                 f" {RELEASED_TOTAL_SECONDS / 60:.0f} min, {RELEASED_TOTAL_SECONDS / total:.0f}x longer)")
    print(f"\n{len(res)} fits ({failed} failed, {not_converged} not converged) plus evaluation in {total:.2f} s{speed}.")
    per_law = res.groupby("law")["fit_seconds"].agg(["mean", "max"])
    print("seconds per fit: " + ", ".join(f"{law} mean {r['mean'] * 1e3:.1f} ms / max {r['max'] * 1e3:.1f} ms"
                                          for law, r in per_law.iterrows()))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        res.to_csv(args.out, index=False)
        print(f"wrote {len(res)} rows to {args.out}")
    return 0


# Each command is a ``main(argv) -> int`` in its own module, imported only when it is run.
COMMANDS = {
    "benchmark": (__name__, "_benchmark", "fit M1-M4 on all 92 curves and print the win fractions"),
    "ledger": ("scaling.ledger", "main", "write the paper-vs-ours reproduction ledger to a CSV"),
}
OPTIONAL_COMMANDS = {
    "fit": ("scaling.userfit", "main", "fit scaling laws to your own learning curve (a CSV of x, loss)"),
    "perf": ("scaling.performance", "main", "time every law against the released algorithm"),
}


def _available() -> dict:
    found = dict(COMMANDS)
    for name, spec in OPTIONAL_COMMANDS.items():
        if importlib.util.find_spec(spec[0]) is not None:
            found[name] = spec
    return found


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = _available()
    if not argv or argv[0] not in commands:
        listing = "\n".join(f"  {name:<10} {spec[2]}" for name, spec in commands.items())
        problem = f"unknown command {argv[0]!r}\n" if argv and argv[0] not in ("-h", "--help") else ""
        print(f"{problem}usage: python -m scaling COMMAND [options]   (add --help after a command)\n"
              f"commands:\n{listing}", file=sys.stderr)
        return 0 if argv[:1] in (["-h"], ["--help"]) else 2
    module, func, _ = commands[argv[0]]
    return getattr(importlib.import_module(module), func)(argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
