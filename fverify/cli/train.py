"""``fverify train``: train a face-recognition model from a recipe; resumable, under torchrun
for several processes."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from fverify.cli import options
from fverify.errors import FverifyError

if TYPE_CHECKING:
    from fverify.train.experiment import ExperimentResult

RUNS_DIR = Path("reports/train")


def run(args: argparse.Namespace) -> int:
    from fverify.train.config import list_recipes, load_config

    if args.list_recipes:
        for name in list_recipes():
            print(name)
        return 0
    from fverify.train.loop import train

    if args.experiment is not None:
        from fverify.train.experiment import EXPERIMENTS

        if args.out is None or args.config is not None or args.resume is not None:
            raise FverifyError("--experiment needs --out DIR and takes no --config or --resume",
                               fix=f"fverify train --experiment {args.experiment} --out DIR [--set ...]")
        done = EXPERIMENTS[args.experiment](args.out, args.set)
        print_experiment(done)
        return 0
    if args.resume is not None:
        if args.config is not None:
            raise FverifyError("--resume continues a run with the config saved in its checkpoint",
                               fix="drop --config (--set may change only keys that do not change what is "
                               "computed: see the README's Training section)")
        if args.out is None:
            raise FverifyError("--resume needs --out RUN, the folder of the run to continue")
        result = train(None, args.out, resume=args.resume or True, overrides=args.set)
    else:
        if args.config is None:
            raise FverifyError("fverify train needs --config RECIPE",
                               fix="give a TOML file or a bundled recipe (fverify train --list-recipes)")
        config = load_config(args.config, args.set)
        if args.out is None and int(os.environ.get("WORLD_SIZE", "1")) > 1:
            # Each process would name its own folder from its own clock: they must share one.
            raise FverifyError("under torchrun, fverify train needs --out RUN (one folder for all processes)",
                               fix="add --out reports/train/NAME")
        out = args.out or RUNS_DIR / f"{config.name}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
        result = train(config, out)
    if result.stopped_by is not None:
        print(f"stopped by {result.stopped_by} at epoch {result.epoch}, step {result.global_step}; "
              f"checkpoint {result.checkpoint}\n"
              f"continue with: fverify train --resume --out {result.run_dir}", file=sys.stderr)
        return 130 if result.stopped_by == "SIGINT" else 143 if result.stopped_by == "SIGTERM" else 0
    if result.model is not None:
        print(f"wrote {result.model}; evaluate it with: fverify lfw --model {result.model} --data LFW_DIR")
    return 0


def print_experiment(done: ExperimentResult) -> None:
    """The closing lines of an experiment (fverify train --experiment, fverify demo): the
    verdicts, the comparison table and where the report is."""
    from fverify.report.tables import comparison_summary

    statistics = done.report.report.statistics
    heading, grid = done.report.report.sections()[0]
    widths = [max(len(line[i]) for line in [grid.header, *grid.rows]) for i in range(len(grid.header))]
    print(f"{heading}, percent:")
    for line in [grid.header, *grid.rows]:
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(line, widths)))
    for comparison in statistics.comparisons:
        print(comparison.verdict)
    print(comparison_summary(statistics))
    print(f"wrote {done.out}/: runs/, eval/, report/ ({', '.join(done.report.files)})")
    print(f"open {done.report.out / 'report.html'} in a browser (or read report.md)")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train", help="train a model (recipes for the HM paper's Table 1); torchrun for DDP",
        description="Train backbone + loss head [+ Hard-Mining] from a TOML recipe. Under "
        "`torchrun --nproc-per-node N -m fverify train ...` each process trains on its share "
        "of every global batch.")
    parser.add_argument("--config", metavar="RECIPE",
                        help="a TOML recipe file or a bundled recipe name (--list-recipes)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override one config key, value in TOML (repeatable), e.g. "
                        "--set optim.lr=0.1 --set data.path=/data/casia")
    options.add_out(parser, f"{RUNS_DIR}/<recipe>-<UTC timestamp>/ (new runs)")
    parser.add_argument("--resume", nargs="?", const="", default=None, metavar="CKPT",
                        help="continue the run in --out from CKPT (default: its newest "
                        "checkpoint in RUN/checkpoints)")
    parser.add_argument("--list-recipes", action="store_true", help="print the bundled recipes")
    parser.add_argument("--experiment", choices=("synthetic-hm",),
                        help="synthetic-hm: train synth-ce, synth-hm-ce, synth-arcface and "
                        "synth-hm-arcface with identical seeds, verify each on a synthetic LFW "
                        "(6,000 pairs) and YTF, and write the fverify report (HM vs base with paired "
                        "significance, Holm-corrected; curves; training curves) into --out (--set "
                        "applies to all four runs)")
    parser.set_defaults(func=run)
