"""``fverify demo``: synthetic data, two small models (plain vs Hard-Mining), verification
and the comparison report, in minutes on a CPU."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from fverify.cli import options


def run(args: argparse.Namespace) -> int:
    from fverify.cli.train import print_experiment
    from fverify.demo import run_demo

    started_wall, started_cpu = time.perf_counter(), time.process_time()
    done = run_demo(loss=args.loss, seed=args.seed, quick=args.quick, out=args.out, cache=args.cache)
    print_experiment(done)
    print(f"demo finished in {time.perf_counter() - started_wall:.0f} s "
          f"({time.process_time() - started_cpu:.0f} s of CPU time in this process)")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    from fverify.demo import DEFAULT_OUT, LOSSES

    parser = subparsers.add_parser(
        "demo", help="the whole story on synthetic data in minutes: train plain vs Hard-Mining, "
        "verify, report",
        description="Render synthetic identities and a synthetic LFW and YTF (cached), train two "
        "small models with identical settings and seeds, one with the loss wrapped in Hard-Mining "
        "(bundled recipes demo and demo-hm), verify both with the LFW and YTF protocol code, and "
        "write the comparison report (table with paired significance, ROC, DET, training curves, "
        "the paper's Fig. 1).")
    parser.add_argument("--loss", choices=tuple(LOSSES), default="arcface",
                        help="the loss of both models (default: arcface; ce is plain softmax "
                        "cross-entropy; another head than arcface takes its default settings)")
    options.add_seed(parser)
    parser.add_argument("--quick", action="store_true",
                        help="a reduced demo (tiny data, 2 epochs): seconds, not minutes")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                        help=f"output folder (default: {DEFAULT_OUT}); an earlier demo's output is "
                        "replaced, any other non-empty folder refused")
    parser.add_argument("--cache", type=Path, metavar="DIR",
                        help="synthetic data cache (default: $XDG_CACHE_HOME/fverify/synth, else "
                        "~/.cache/fverify/synth)")
    parser.set_defaults(func=run)
