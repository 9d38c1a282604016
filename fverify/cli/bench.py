"""``fverify bench TARGET``: measured speed (and precision) on this machine, each against a
baseline measured in the same run.

Targets are a registry: a name maps to its options and to the library call that measures and
returns ``(report, figures)``. The report is printed; both are saved as ``OUT/TARGET.txt`` and
``OUT/TARGET.json``. Library modules (and torch) are imported only when a target runs.
"""
from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fverify.atomic import atomic_open, write_json
from fverify.cli.options import add_device, add_out, add_seed
from fverify.models.dtype import DTYPE_NAMES
from fverify.models.registry import BACKBONES

DEFAULT_OUT = Path("reports/bench")
ARCHS = tuple(BACKBONES)
LOW_PRECISION = tuple(d for d in DTYPE_NAMES if d != "float32")


@dataclass(frozen=True)
class BenchTarget:
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], tuple[str, dict[str, Any]]]


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
        "--pairs", type=_at_least(20, "10 folds, both classes in each"), nargs="+",
        default=list(DEFAULT_SIZES), metavar="N",
        help=f"workload sizes in pairs (default: {' '.join(map(str, DEFAULT_SIZES))})",
    )
    parser.add_argument("--repeats", type=_at_least(1, "one timed run"), default=3,
                        help="runs of fverify's searches; best time kept (default: 3)")


def _eval_run(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    from fverify.bench.eval import bench_eval

    return bench_eval(args.pairs, seed=args.seed, repeats=args.repeats)


def _embed_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--images", type=_at_least(1, "something to embed"), default=512,
                        help="synthetic JPEGs for the pipeline (default: 512)")
    parser.add_argument("--naive-images", type=_at_least(1, "something to embed"), default=32,
                        help="images for the naive loop (default: 32)")
    parser.add_argument("--arch", choices=ARCHS, default="iresnet18", help="backbone (default: iresnet18)")
    parser.add_argument("--batch-size", type=_at_least(1, "images per batch"), default=32, metavar="N",
                        help="images per batch (default: 32)")
    parser.add_argument("--dtypes", type=_dtype_list, default=("float32", "bfloat16"), metavar="LIST",
                        help="pipeline dtypes to measure, comma-separated (default: float32,bfloat16)")
    parser.add_argument("--workers", type=int, metavar="N", help="decoding processes (default: extraction's)")
    parser.add_argument("--rounds", type=_at_least(1, "one timed round"), default=2,
                        help="alternating rounds, best kept (default: 2)")


def _dtype_list(text: str) -> tuple[str, ...]:
    dtypes = tuple(text.split(","))
    unknown = [d for d in dtypes if d not in DTYPE_NAMES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown dtypes {unknown}; choose from {', '.join(DTYPE_NAMES)}")
    return dtypes


def _embed_run(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    from fverify.bench import embed

    figures = embed.run(images=args.images, naive_images=args.naive_images, arch=args.arch,
                        batch_size=args.batch_size, dtypes=args.dtypes, workers=args.workers,
                        rounds=args.rounds, seed=args.seed)
    return embed.summary(figures), figures


def _precision_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dtype", choices=LOW_PRECISION, default="bfloat16",
                        help="dtype compared with float32 (default: bfloat16)")
    parser.add_argument("--device", default="cpu", help="'cpu' or 'cuda[:N]' (default: cpu)")
    parser.add_argument("--arch", choices=ARCHS, default="iresnet18", help="backbone (default: iresnet18)")
    parser.add_argument("--pairs-per-fold", type=_at_least(1, "pairs in each fold"), default=300,
                        help="same (and as many different) pairs per fold, 10 folds (default: 300)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _precision_run(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    from fverify.bench import precision

    figures = precision.run(dtype=args.dtype, device=args.device, arch=args.arch,
                            pairs_per_fold=args.pairs_per_fold, seed=args.seed,
                            progress=not args.no_progress)
    return precision.summary(figures), figures


def _images_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--images", type=_at_least(1, "something to check"), default=2000,
                        help="synthetic 250x250 JPEGs (default: 2000)")
    parser.add_argument("--repeats", type=_at_least(1, "one timed run"), default=3,
                        help="runs of each; best time kept (default: 3)")


def _images_run(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    from fverify.bench import images

    figures = images.run(images=args.images, repeats=args.repeats, seed=args.seed)
    return images.summary(figures), figures


def _data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--images", type=_at_least(1, "something to read"), default=1024,
                        help="synthetic face JPEGs (default: 1024)")
    parser.add_argument("--batch-size", type=_at_least(1, "images per batch"), default=64, metavar="N",
                        help="DataLoader batch (default: 64)")
    parser.add_argument("--workers", type=_at_least(0, "0 reads in this process"), nargs="+", default=[2],
                        metavar="N", help="DataLoader worker counts to measure (default: 2)")
    parser.add_argument("--rounds", type=_at_least(1, "one timed round"), default=2,
                        help="alternating rounds, best kept (default: 2)")


def _data_run(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    from fverify.bench import data

    figures = data.run(images=args.images, batch_size=args.batch_size, workers=args.workers,
                       rounds=args.rounds, seed=args.seed)
    return data.summary(figures), figures


def _train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--arch", choices=ARCHS, default="iresnet18", help="backbone (default: iresnet18)")
    parser.add_argument("--batch-size", type=_at_least(1, "images per step"), default=64, metavar="N",
                        help="images per optimiser step (default: 64)")
    parser.add_argument("--steps", type=_at_least(1, "one timed step"), default=3,
                        help="timed steps per round and path (default: 3)")
    parser.add_argument("--images", type=_at_least(2, "two identities"),
                        help="synthetic face JPEGs the data path reads (default: the fewest a "
                        "steady-state run needs, batch x (1 + steps + 4 x workers))")
    parser.add_argument("--dtypes", type=_dtype_list, default=("float32", "bfloat16"), metavar="LIST",
                        help="trainer precisions, comma-separated (default: float32,bfloat16)")
    parser.add_argument("--workers", type=_at_least(0, "DataLoader workers"), default=2,
                        help="DataLoader worker processes (default: 2)")
    parser.add_argument("--rounds", type=_at_least(1, "one timed round"), default=2,
                        help="alternating rounds, best kept (default: 2)")


def _train_run(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    from fverify.bench import train

    figures = train.run(arch=args.arch, batch_size=args.batch_size, steps=args.steps, images=args.images,
                        dtypes=args.dtypes, workers=args.workers, rounds=args.rounds, seed=args.seed)
    return train.summary(figures), figures


def _align_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--photos", type=Path, metavar="DIR",
                        help="folder of face photos (default: synthetic faces)")
    parser.add_argument("--images", type=_at_least(1, "something to detect in"), default=64,
                        help="250x250 images (default: 64)")
    parser.add_argument("--large", type=_at_least(1, "something to detect in"), default=8,
                        help="large photos (default: 8)")
    parser.add_argument("--batch-size", type=_at_least(1, "images per batch"), default=32, metavar="N",
                        help="images per batched call (default: 32)")
    parser.add_argument("--repeats", type=_at_least(1, "one timed run"), default=2,
                        help="timed runs, best kept (default: 2)")
    add_device(parser)


def _align_run(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    from fverify.bench import align

    figures = align.run(photos=args.photos, images=args.images, large=args.large,
                        batch_size=args.batch_size, repeats=args.repeats, device=args.device, seed=args.seed)
    return align.summary(figures), figures


BENCH_TARGETS: dict[str, BenchTarget] = {
    "eval": BenchTarget(
        "exact k-fold threshold search and the whole evaluate command vs insightface's grid "
        "loop (6,000 and 1,000,000 pairs)",
        _eval_arguments, _eval_run),
    "embed": BenchTarget(
        "embedding images/s: pipeline vs naive loop vs compute-bound rate",
        _embed_arguments, _embed_run),
    "precision": BenchTarget(
        "do bf16 (CPU) / fp16 (CUDA) embeddings keep float32's decisions on a 6,000-pair set?",
        _precision_arguments, _precision_run),
    "images": BenchTarget(
        "the image check before every run and the cache's content hash vs decoding the images",
        _images_arguments, _images_run),
    "data": BenchTarget(
        "training data images/s: RecordIO and image folder readers vs JPEG decoding alone",
        _data_arguments, _data_run),
    "train": BenchTarget(
        "training images/s (forward + backward + step), data included and excluded, vs compute-bound",
        _train_arguments, _train_run),
    "align": BenchTarget(
        "MTCNN face detection ms/image, 250x250 and large photos, batched and one at a time; "
        "the mtcnn package (TensorFlow) beside it when installed",
        _align_arguments, _align_run),
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench", help="measured speed on this machine",
        description="Measure speed (and precision) on this machine; baselines are measured in "
        "the same run.")
    targets = parser.add_subparsers(dest="target", metavar="TARGET", required=True)
    for name, target in BENCH_TARGETS.items():
        target_parser = targets.add_parser(name, help=target.help, description=target.help)
        target.add_arguments(target_parser)
        add_seed(target_parser)
        add_out(target_parser, str(DEFAULT_OUT))
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    report, figures = BENCH_TARGETS[args.target].run(args)
    print(report)
    out = args.out or DEFAULT_OUT
    with atomic_open(out / f"{args.target}.txt", "w", encoding="utf-8") as handle:
        handle.write(report + "\n")
    write_json(out / f"{args.target}.json", figures)
    print(f"wrote {out / args.target}.txt and .json")
    return 0
