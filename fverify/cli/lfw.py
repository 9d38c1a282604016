"""``fverify lfw``: Labeled Faces in the Wild, View 2 (default) or View 1."""
from __future__ import annotations

import argparse
from pathlib import Path

from fverify.align.layouts import LAYOUTS
from fverify.cli import options
from fverify.cli.protocol_run import add_run_options, run
from fverify.errors import FverifyError
from fverify.protocols.evalset import EvalSet
from fverify.protocols.lfw import VIEWS, load_lfw


def add_protocol_options(parser: argparse.ArgumentParser) -> None:
    """LFW's own options (without --data, which pack shares between protocols)."""
    parser.add_argument("--view", choices=sorted(VIEWS, reverse=True), default="2",
                        help="2: pairs.txt, 10-fold cross-validation (default); 1: threshold "
                        "fitted on pairsDevTrain.txt, metrics of pairsDevTest.txt")
    parser.add_argument("--pairs", type=Path, action="append", metavar="FILE",
                        help="your copy of the view's pairs file instead of the shipped one "
                        "(View 1: give --pairs twice, DevTrain then DevTest); an md5 different "
                        "from the official list is a warning")


def build_evalset(args: argparse.Namespace) -> EvalSet:
    if args.data is None:
        raise FverifyError("lfw needs --data DIR, the LFW image folder", fix="add --data DIR")
    return load_lfw(args.data, pairs=args.pairs, view=args.view)


DATA_HELP = ("LFW image folder holding <Name>/<Name>_0001.jpg: lfw/, lfw-deepfunneled/, "
             "lfw-funneled/ or an aligned copy (.jpg or .png)")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "lfw", help="LFW View 2 (10 folds, 6000 pairs) or View 1",
        description="Verify on Labeled Faces in the Wild with the official pairs lists.")
    options.add_data(parser, DATA_HELP)
    add_protocol_options(parser)
    add_run_options(parser, LAYOUTS["lfw"][1])
    parser.set_defaults(func=run, build_evalset=build_evalset)
