"""``fverify pairs``: your own pair list, ``path1,path2,label[,fold]``."""
from __future__ import annotations

import argparse
from pathlib import Path

from fverify.align.layouts import LAYOUTS
from fverify.cli import options
from fverify.cli.protocol_run import add_run_options, run
from fverify.errors import FverifyError
from fverify.protocols.evalset import EvalSet
from fverify.protocols.pairs_csv import load_pairs


def add_protocol_options(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument("--pairs-csv", type=Path, required=required, metavar="FILE",
                        help="CSV rows path1,path2,label[,fold], paths relative to --data, "
                        "label 1 same / 0 different; without a fold column pairs get the "
                        "stratified 10-fold rule of `fverify evaluate`")
    options.add_allow_outside_data(parser)


def build_evalset(args: argparse.Namespace) -> EvalSet:
    if args.data is None or args.pairs_csv is None:
        raise FverifyError("pairs needs --data DIR and --pairs-csv FILE", fix="add both")
    return load_pairs(args.data, args.pairs_csv, args.allow_outside_data)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "pairs", help="your own pair list (CSV path1,path2,label[,fold])",
        description="Verify on your own pairs of images.")
    options.add_data(parser, "folder the CSV's image paths are relative to")
    add_protocol_options(parser)
    add_run_options(parser, LAYOUTS["folder"][1])
    parser.set_defaults(func=run, build_evalset=build_evalset)
