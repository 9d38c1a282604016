"""``fverify ytf``: YouTube Faces, 10 splits of video pairs."""
from __future__ import annotations

import argparse
from pathlib import Path

from fverify.align.layouts import LAYOUTS
from fverify.cli import options
from fverify.cli.protocol_run import add_run_options, run
from fverify.embedding.scoring import AGGREGATIONS, DEFAULT_AGGREGATION
from fverify.protocols.evalset import EvalSet
from fverify.protocols.ytf import load_ytf


def build_evalset(args: argparse.Namespace) -> EvalSet:
    return load_ytf(args.data, splits=args.splits)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ytf", help="YouTube Faces (10 splits, 5000 video pairs)",
        description="Verify on YouTube Faces: frames are embedded, each video aggregated, "
        "video pairs compared by cosine.")
    options.add_data(parser, "YTF folder holding aligned_images_DB/<Name>/<video>/"
                     "aligned_detect_<video>.<frame>.jpg, or <Name>/<video>/*.jpg frames")
    parser.add_argument("--splits", type=Path, metavar="FILE",
                        help="your copy of splits.txt instead of the shipped one; an md5 "
                        "different from the official list is a warning")
    parser.add_argument("--aggregation", choices=AGGREGATIONS, default=DEFAULT_AGGREGATION,
                        help="how a video's frame embeddings become one: norm_mean (default: "
                        "normalise, average, normalise), mean, first_k, random_k, pairwise_mean")
    parser.add_argument("--k", type=int, metavar="N", help="frames per video for first_k / random_k")
    options.add_seed(parser)
    add_run_options(parser, LAYOUTS["ytf"][1])
    parser.set_defaults(func=run, build_evalset=build_evalset)
