"""``fverify align SRC DST``: detect, align and crop every image of a raw tree."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from fverify.align.templates import TEMPLATES
from fverify.cli import options
from fverify.align.layouts import LAYOUTS


def run(args: argparse.Namespace) -> int:
    from fverify.align.tree import MANIFEST_FILE, align_tree  # imports torch: only when run

    start = time.perf_counter()

    def progress(done: int, total: int) -> None:
        elapsed = time.perf_counter() - start
        print(f"\raligned {done}/{total} ({done / elapsed:.1f} images/s counting skipped)",
              end="", flush=True)

    summary = align_tree(args.src, args.dst, args.layout, template=args.template,
                         device=args.device, workers=args.workers, batch_size=args.batch_size,
                         detector=args.detector,
                         progress=progress)
    print()
    rate = summary["images_per_second"]
    print(f"{summary['images']} images: {summary['aligned_now']} aligned now"
          f"{f' ({rate} images/s)' if rate else ''}, "
          f"{summary['skipped_already_aligned']} already aligned; manifest {args.dst / MANIFEST_FILE}")
    fallback = summary["fallback"]
    if fallback["count"]:
        print(f"no face found in {fallback['count']} images (centre crop instead):")
        for name in fallback["images"]:
            print(f"  {name}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "align", help="align raw face images (MTCNN + 5-point similarity) into a mirrored tree",
        description="Detect faces with MTCNN, choose one per image (LFW: nearest the centre; "
        "otherwise the largest), warp it onto the crop template by its five landmarks, and "
        "write the crop under DST at the same relative path. Resumable: images already "
        "aligned are skipped. Images without a face get a centre crop and are listed.")
    parser.add_argument("src", type=Path, metavar="SRC", help="folder of raw images")
    parser.add_argument("dst", type=Path, metavar="DST", help="output folder (created; resumed if it exists)")
    parser.add_argument("--layout", choices=tuple(LAYOUTS), default="folder",
                        help="lfw: <person>/<image>; ytf: <person>/<video>/<frame> (every "
                        "frame); folder: any depth (default: folder)")
    parser.add_argument("--template", choices=tuple(TEMPLATES), default="arcface",
                        help="arcface: 112x112; sphereface: 96x112 (default: arcface)")
    parser.add_argument("--workers", type=int, default=4, metavar="N",
                        help="threads reading and writing images (default: 4)")
    parser.add_argument("--batch-size", type=int, default=32, metavar="N",
                        help="images per detector batch (default: 32)")
    options.add_detector(parser)
    options.add_device(parser)
    parser.set_defaults(func=run)
