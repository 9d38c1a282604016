"""Options shared by several subcommands, each defined once (as bob.measure's common_options).

A subcommand calls the ``add_*`` functions it needs; the flag names, defaults and help text
are therefore identical everywhere they appear.
"""
from __future__ import annotations

import argparse
from pathlib import Path

THRESHOLD_METHODS = ("exact", "grid")
FLIP_MODES = ("sum", "concat", "none")


def add_threshold(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threshold",
        choices=THRESHOLD_METHODS,
        default="exact",
        help="k-fold threshold search: 'exact' (optimal cut, midpoint between adjacent training "
        "scores; default) or 'grid' (insightface's evaluator: squared L2 = 2-2cos on 0..4 step "
        "0.01, for comparison with published logs)",
    )


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", type=Path, metavar="OUT.json", help="also write the result JSON here"
    )


def add_out(parser: argparse.ArgumentParser, default_help: str) -> None:
    parser.add_argument("--out", type=Path, metavar="DIR", help=f"output folder (default: {default_help})")


def add_data(parser: argparse.ArgumentParser, what: str, required: bool = True) -> None:
    parser.add_argument("--data", type=Path, required=required, metavar="DIR", help=what)


def add_model(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        required=True,
        metavar="MODEL",
        help="fverify checkpoint (.pt), bare state_dict with --arch, TorchScript, ONNX, "
        "or path/to/file.py:function",
    )


def add_embedding(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--flip",
        choices=FLIP_MODES,
        default="sum",
        help="flip test: add (insightface), concatenate, or no flipped embedding (default: sum)",
    )
    parser.add_argument("--batch-size", type=int, default=128, metavar="N", help="images per batch (default: 128)")
    parser.add_argument(
        "--device", default="auto", help="'cpu', 'cuda', 'cuda:1', ... or 'auto' (default: auto)"
    )


def add_seed(parser: argparse.ArgumentParser, default: int = 0) -> None:
    parser.add_argument("--seed", type=int, default=default, help=f"random seed (default: {default})")
