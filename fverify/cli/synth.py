"""``fverify synth lfw|ytf OUT``: small synthetic benchmarks in the real on-disk layouts."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from fverify.cli import options
from fverify.data.synth import write_lfw, write_ytf
from fverify.data.synth.lfw import IMAGE_FORMATS


def run_lfw(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    written = write_lfw(args.out_dir, num_folds=args.folds, pairs_per_fold=args.pairs_per_fold,
                        people_per_fold=args.people_per_fold, max_images=args.max_images,
                        seed=args.seed, image_format=args.format)
    _report(args, written, "images", time.perf_counter() - start,
            f"fverify lfw --data {args.out_dir} --pairs {args.out_dir / 'pairs.txt'} --validate")
    return 0


def run_ytf(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    written = write_ytf(args.out_dir, num_splits=args.splits, pairs_per_split=args.pairs_per_split,
                        people_per_split=args.people_per_split, max_videos=args.max_videos,
                        min_frames=args.min_frames, max_frames=args.max_frames, seed=args.seed)
    _report(args, written, "frames", time.perf_counter() - start,
            f"fverify ytf --data {args.out_dir} --splits {args.out_dir / 'splits.txt'} --validate")
    return 0


def _report(args: argparse.Namespace, written: dict, unit: str, seconds: float, check: str) -> None:
    counts = ", ".join(f"{value} {key}" for key, value in written.items())
    print(f"wrote {args.out_dir}: {counts} in {seconds:.1f} s "
          f"({written[unit] / seconds:.0f} {unit}/s, seed {args.seed})")
    print(f"check it with: {check}")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "synth", help="write a synthetic LFW or YTF in the real on-disk layout",
        description="Write seeded synthetic face data in the real LFW / YTF layouts, "
        "protocol files included (112x112 face-like identities with pose, lighting, noise, "
        "occlusion and blur nuisances).")
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)

    lfw = kinds.add_parser("lfw", help="<Name>/<Name>_NNNN.jpg tree + pairs.txt (View 2 format) + people.txt")
    lfw.add_argument("out_dir", type=Path, metavar="OUT", help="new (or empty) output folder")
    lfw.add_argument("--folds", type=int, default=10, help="folds (default: 10)")
    lfw.add_argument("--pairs-per-fold", type=int, default=30, metavar="N",
                     help="matched pairs per fold, and as many mismatched (default: 30)")
    lfw.add_argument("--people-per-fold", type=int, default=24, metavar="N", help="default: 24")
    lfw.add_argument("--max-images", type=int, default=6, metavar="N",
                     help="images per person are 1..N (default: 6)")
    lfw.add_argument("--format", choices=IMAGE_FORMATS, default="jpg", help="image files (default: jpg)")
    options.add_seed(lfw)
    lfw.set_defaults(func=run_lfw)

    ytf = kinds.add_parser("ytf", help="aligned_images_DB/<Name>/<vid>/aligned_detect_<vid>.<frame>.jpg + splits.txt")
    ytf.add_argument("out_dir", type=Path, metavar="OUT", help="new (or empty) output folder")
    ytf.add_argument("--splits", type=int, default=10, help="splits (default: 10)")
    ytf.add_argument("--pairs-per-split", type=int, default=10, metavar="N",
                     help="same-person pairs per split, and as many different (default: 10)")
    ytf.add_argument("--people-per-split", type=int, default=8, metavar="N", help="default: 8")
    ytf.add_argument("--max-videos", type=int, default=4, metavar="N",
                     help="videos per person are 2..N, at most 6 (default: 4)")
    ytf.add_argument("--min-frames", type=int, default=4, metavar="N", help="default: 4")
    ytf.add_argument("--max-frames", type=int, default=8, metavar="N", help="default: 8")
    options.add_seed(ytf)
    ytf.set_defaults(func=run_ytf)

