"""``fverify bench TARGET``: measured speed (and precision) on this machine, with the baseline
measured in the same run. Each target is one entry of TARGETS: help, its options, and the
function that runs the library measurement and prints it (torch is imported only then)."""
from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import NamedTuple

from fverify.atomic import write_json
from fverify.cli.options import add_json
from fverify.models.dtype import DTYPE_NAMES
from fverify.models.registry import BACKBONES


class Target(NamedTuple):
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _embed_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--images", type=int, default=512, help="synthetic JPEGs for the pipeline (default: 512)")
    parser.add_argument("--naive-images", type=int, default=32, help="images for the naive loop (default: 32)")
    parser.add_argument("--arch", choices=list(BACKBONES), default="iresnet18", help="backbone (default: iresnet18)")
    parser.add_argument("--batch-size", type=int, default=32, metavar="N", help="images per batch (default: 32)")
    parser.add_argument("--dtypes", type=_dtype_list, default=("float32", "bfloat16"), metavar="LIST",
                        help="pipeline dtypes to measure, comma-separated (default: float32,bfloat16)")
    parser.add_argument("--workers", type=int, metavar="N", help="decoding processes (default: extraction's)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds, best kept (default: 2)")
    add_json(parser)


def _dtype_list(text: str) -> tuple[str, ...]:
    dtypes = tuple(text.split(","))
    unknown = [d for d in dtypes if d not in DTYPE_NAMES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown dtypes {unknown}; choose from {', '.join(DTYPE_NAMES)}")
    return dtypes


def _run_embed(args: argparse.Namespace) -> int:
    from fverify.bench import embed

    figures = embed.run(images=args.images, naive_images=args.naive_images, arch=args.arch,
                        batch_size=args.batch_size, dtypes=args.dtypes, workers=args.workers, rounds=args.rounds)
    print(embed.summary(figures))
    if args.json:
        write_json(args.json, figures)
    return 0


def _precision_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dtype", choices=[d for d in DTYPE_NAMES if d != "float32"], default="bfloat16",
                        help="dtype compared with float32 (default: bfloat16)")
    parser.add_argument("--device", default="cpu", help="'cpu' or 'cuda[:N]' (default: cpu)")
    parser.add_argument("--arch", choices=list(BACKBONES), default="iresnet18", help="backbone (default: iresnet18)")
    parser.add_argument("--identities", type=int, default=300, help="synthetic identities (default: 300)")
    parser.add_argument("--images-per-identity", type=int, default=10, help="(default: 10)")
    parser.add_argument("--pairs", type=int, default=6000, help="pairs, half same, in 10 folds (default: 6000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_json(parser)


def _run_precision(args: argparse.Namespace) -> int:
    from fverify.bench import precision

    figures = precision.run(dtype=args.dtype, device=args.device, arch=args.arch, identities=args.identities,
                            images_per_identity=args.images_per_identity, n_pairs=args.pairs, seed=args.seed,
                            progress=not args.no_progress)
    print(precision.summary(figures))
    if args.json:
        write_json(args.json, figures)
    return 0


TARGETS: dict[str, Target] = {
    "embed": Target("embedding images/s: pipeline vs naive loop vs compute-bound rate",
                    _embed_arguments, _run_embed),
    "precision": Target("do bf16 (CPU) / fp16 (CUDA) embeddings keep float32's decisions?",
                        _precision_arguments, _run_precision),
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bench", help="measured speed on this machine",
                                   description="Measure speed (and precision) on this machine; "
                                   "baselines are measured in the same run.")
    targets = parser.add_subparsers(dest="target", metavar="TARGET", required=True)
    for name, target in TARGETS.items():
        sub = targets.add_parser(name, help=target.help, description=target.help)
        target.add_arguments(sub)
        sub.set_defaults(func=target.run)
