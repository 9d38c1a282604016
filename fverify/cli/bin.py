"""``fverify bin``: an insightface ``.bin`` pair set; ``fverify bin pack`` writes one.

    fverify bin --bin cfp_fp.bin --validate
    fverify bin pack --from lfw --data ~/data/lfw-aligned lfw.bin
    fverify bin pack --from pairs --data DIR --pairs-csv my_pairs.csv mine.bin
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fverify.align.layouts import LAYOUTS
from fverify.cli import lfw, options, pairs
from fverify.cli.protocol_run import add_run_options, align, print_evalset, run
from fverify.errors import FverifyError
from fverify.protocols.evalset import EvalSet
from fverify.protocols.insightface_bin import load_bin, write_bin


def add_protocol_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bin", type=Path, metavar="FILE",
                        help="insightface .bin: pickle of (JPEG/PNG bytes, issame); pairs are "
                        "consecutive images, folds 10 equal consecutive blocks")


def build_evalset(args: argparse.Namespace) -> EvalSet:
    if args.bin is None:
        raise FverifyError("bin needs --bin FILE", fix="add --bin path/to/set.bin")
    return load_bin(args.bin)


# The image protocols `pack --from NAME` accepts (a .bin holds image pairs), each built by its
# protocol command's own builder, with the layout whose face choice --align takes: the one
# list of them.
PACK_SOURCES = {"lfw": (lfw.build_evalset, "lfw"), "pairs": (pairs.build_evalset, "folder"),
                "bin": (build_evalset, "folder")}


def run_pack(args: argparse.Namespace) -> int:
    build, layout = PACK_SOURCES[args.source]
    evalset = build(args)
    print_evalset(evalset)
    if args.align:
        from fverify.align.aligned_images import crops_root
        from fverify.embedding.cache import default_cache_dir

        args.align_face_choice = LAYOUTS[layout][1]
        evalset = align(args, evalset, crops_root(default_cache_dir()))
    warnings = write_bin(evalset, args.output)
    print(f"wrote {args.output}: {evalset.protocol.num_pairs} pairs, "
          f"{2 * evalset.protocol.num_pairs} images")
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bin", help="an insightface .bin pair set (lfw, cfp_fp, agedb_30, ...); `bin pack` makes one",
        description="Verify on an insightface .bin pair set, read with a restricted unpickler "
        "(no code from the file runs). `fverify bin pack` writes a .bin from an image protocol.")
    add_protocol_options(parser)
    add_run_options(parser, LAYOUTS["folder"][1])
    parser.set_defaults(func=run, build_evalset=build_evalset)

    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    pack = actions.add_parser(
        "pack", help="write an image protocol as an insightface .bin",
        description="Write the pairs of an image protocol (all its checks first) as an "
        "insightface .bin: pickle of (list of JPEG/PNG bytes, list of bools), two images per "
        "pair, pairs in fold order. Images are stored as their files' bytes (PNG when not "
        "JPEG/PNG); for an insightface-style set of raw images, --align stores their aligned PNG crops. Written atomically.")
    pack.add_argument("--from", dest="source", choices=sorted(PACK_SOURCES), required=True,
                      help="the protocol to pack, with its usual options")
    options.add_data(pack, "image folder of --from lfw / --from pairs", required=False)
    lfw.add_protocol_options(pack)
    pairs.add_protocol_options(pack, required=False)
    add_protocol_options(pack)
    options.add_align(pack, "per --from: lfw nearest-centre, otherwise largest")
    options.add_device(pack)
    pack.add_argument("output", type=Path, metavar="OUT.bin", help="the .bin to write")
    pack.set_defaults(func=run_pack)
