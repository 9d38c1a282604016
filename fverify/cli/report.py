"""``fverify report``: a comparison report (tables, significance, figures) from finished runs."""
from __future__ import annotations

import argparse
from pathlib import Path

from fverify.errors import FverifyError


def register(subparsers: argparse._SubParsersAction) -> None:
    from fverify.report.writers import WRITERS

    parser = subparsers.add_parser(
        "report", help="compare runs: accuracy table, paired significance, ROC/DET/score figures",
        description="A report of several runs (folders or result JSONs written by fverify "
        "lfw|ytf|bin|pairs or fverify evaluate --json; globs allowed): models as rows, protocols "
        "as columns, paired McNemar tests and bootstrap CIs with Holm's correction, and figures, "
        "written as Markdown, tidy CSV, LaTeX and one self-contained HTML file.")
    parser.add_argument("runs", nargs="+", metavar="RUN", help="run folder, result JSON, or a glob of them")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="new (or empty) folder for the report")
    parser.add_argument("--baseline", metavar="LABEL",
                        help="compare every other model with this one (default: each hard-mining "
                        "model with the model of its base recipe, when the checkpoints say so)")
    parser.add_argument("--format", default=",".join(WRITERS), metavar="LIST",
                        help=f"comma-separated formats to write (default: {','.join(WRITERS)})")
    parser.add_argument("--name", action="append", default=[], metavar="RUN=LABEL",
                        help="label a run's row (repeatable; default: training recipe, else model file)")
    parser.add_argument("--std", action="store_true",
                        help="also show the std over folds (ddof=0, what insightface prints), labelled")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fverify.report.build import make_report
    from fverify.report.tables import comparison_summary

    names = {}
    for given in args.name:
        run_path, sep, label = given.partition("=")
        if not sep or not run_path or not label.strip():
            raise FverifyError(f"--name {given!r} is not RUN=LABEL", fix="e.g. --name runs/a=ArcFace")
        names[run_path] = label.strip()
    formats = [name.strip() for name in args.format.split(",") if name.strip()]
    done = make_report(args.runs, args.out, formats=formats, baseline=args.baseline, names=names,
                       show_std=args.std)
    statistics = done.report.statistics
    print(f"{len(statistics.cells)} runs: {len(statistics.rows)} models x {len(statistics.columns)} protocols")
    for comparison in statistics.comparisons:
        print(comparison.verdict)
    print(comparison_summary(statistics))
    for note in statistics.training_notes:
        print(f"note: {note}")
    print(f"wrote {done.out}/: {', '.join(done.files)}")
    return 0
