"""``fverify bench TARGET``: measured speed on this machine, each against an in-run baseline.

Targets are a registry: a name maps to the options it takes and the library call that runs it
and returns the report. The report is printed and saved as ``OUT/TARGET.txt``.
"""
from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fverify.atomic import atomic_open
from fverify.cli.options import add_out, add_seed

DEFAULT_OUT = Path("reports/bench")


@dataclass(frozen=True)
class BenchTarget:
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], str]


def _at_least(minimum: int, why: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"at least {minimum} ({why})")
        return value

    return parse


def _eval_arguments(parser: argparse.ArgumentParser) -> None:
    from fverify.bench.eval import DEFAULT_SIZES

    parser.add_argument(
        "--pairs",
        type=_at_least(20, "10 folds, both classes in each"),
        nargs="+",
        default=list(DEFAULT_SIZES),
        metavar="N",
        help=f"workload sizes in pairs (default: {' '.join(map(str, DEFAULT_SIZES))})",
    )
    parser.add_argument(
        "--repeats",
        type=_at_least(1, "one timed run"),
        default=3,
        help="runs of fverify's searches; best time kept (default: 3)",
    )
    add_seed(parser)


def _eval_run(args: argparse.Namespace) -> str:
    from fverify.bench.eval import bench_eval

    return bench_eval(args.pairs, seed=args.seed, repeats=args.repeats)


BENCH_TARGETS: dict[str, BenchTarget] = {
    "eval": BenchTarget(
        "exact k-fold threshold search vs insightface's grid loop (6,000 and 1,000,000 pairs)",
        _eval_arguments,
        _eval_run,
    ),
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bench", help="measured speed on this machine")
    targets = parser.add_subparsers(dest="target", metavar="TARGET", required=True)
    for name, target in BENCH_TARGETS.items():
        target_parser = targets.add_parser(name, help=target.help, description=target.help)
        target.add_arguments(target_parser)
        add_out(target_parser, str(DEFAULT_OUT))
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    report = BENCH_TARGETS[args.target].run(args)
    print(report)
    path = (args.out or DEFAULT_OUT) / f"{args.target}.txt"
    with atomic_open(path, "w", encoding="utf-8") as handle:
        handle.write(report + "\n")
    print(f"wrote {path}")
    return 0
