"""Options shared by several subcommands, each defined once (as bob.measure's common_options).

A subcommand calls the ``add_*`` functions it needs; the flag names, defaults and help text
are therefore identical everywhere they appear.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from fverify.align.detectors import DETECTORS
from fverify.align.templates import TEMPLATES
from fverify.embedding.flip import FLIP_MODES
from fverify.metrics.threshold import THRESHOLD_SEARCHES
from fverify.models.dtype import DTYPE_NAMES
from fverify.models.preprocessing import COLOR_ORDERS, parse_channels, parse_input_size
from fverify.models.registry import BACKBONES


def add_threshold(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threshold",
        choices=tuple(THRESHOLD_SEARCHES),
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


def add_allow_outside_data(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-outside-data", action="store_true",
        help="let a pairs CSV name absolute paths or '..' paths that leave --data (refused by "
        "default, so that a list from elsewhere cannot read files anywhere on the machine)")


def add_model(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument(
        "--model",
        required=required,
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
    add_device(parser)


def add_device(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--device", default="auto", help="'cpu', 'cuda', 'cuda:1', ... or 'auto' (default: auto)"
    )


def add_seed(parser: argparse.ArgumentParser, default: int = 0) -> None:
    parser.add_argument("--seed", type=int, default=default, help=f"random seed (default: {default})")


def add_model_format(parser: argparse.ArgumentParser) -> None:
    """Architecture and preprocessing for model files that do not carry them (a bare state
    dict, TorchScript, ONNX); given for an fverify checkpoint, they override its contract."""
    group = parser.add_argument_group("model format (for files without an fverify contract)")
    group.add_argument(
        "--arch", choices=list(BACKBONES), metavar="ARCH",
        help="architecture of a bare state dict: " + "; ".join(f"{name} ({spec.summary})" for name, spec in BACKBONES.items()),
    )
    group.add_argument("--color", choices=COLOR_ORDERS, help="channel order the model expects (default: RGB)")
    group.add_argument("--mean", type=parse_channels, metavar="M[,M,M]",
                       help="pixel mean subtracted, uint8 units, one value or three (default: 127.5)")
    group.add_argument("--std", type=parse_channels, metavar="S[,S,S]",
                       help="divisor after the mean, uint8 units (default: 128; insightface models: 127.5)")
    group.add_argument("--input-size", type=parse_input_size, metavar="H[xW]",
                       help="aligned face size in pixels (default: 112)")


def add_extraction(parser: argparse.ArgumentParser) -> None:
    """How embeddings are computed and cached, beyond --flip/--batch-size/--device."""
    parser.add_argument(
        "--dtype", choices=("auto", *DTYPE_NAMES), default="auto",
        help="precision of the model: 'auto' = float32 on CPU, float16 autocast (AMP) on CUDA; "
        "bfloat16 autocast is faster on CPUs with AVX512-BF16/AMX but changes some decisions: "
        "measured speed and precision proof in the README ('fverify bench embed|precision') "
        "(default: auto; recorded)",
    )
    parser.add_argument("--workers", type=int, metavar="N",
                        help="image-decoding processes (default: up to 4, leaving a core to the model)")
    parser.add_argument("--cache-dir", type=Path, metavar="DIR",
                        help="embedding cache (default: $FVERIFY_CACHE_DIR, else ~/.cache/fverify/embeddings)")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the embedding cache")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def add_align(parser: argparse.ArgumentParser, face_choice: str) -> None:
    """``--align [TEMPLATE]`` for raw images; ``face_choice`` is the protocol's policy (LFW's
    images are centred on the person: nearest the centre; elsewhere the largest face)."""
    parser.add_argument(
        "--align", nargs="?", const="arcface", choices=tuple(TEMPLATES), metavar="TEMPLATE",
        help="the images are raw: detect faces with MTCNN and warp each onto the crop template "
        f"by its five landmarks before embedding ({' or '.join(TEMPLATES)}; default arcface, "
        f"112x112); face choice: {face_choice}; crops are cached beside the embedding "
        "cache, and the settings and every image without a face (centre crop) are recorded")
    parser.set_defaults(align_face_choice=face_choice)
    add_detector(parser)


def add_detector(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--detector", choices=tuple(DETECTORS), default="mtcnn",
        help="mtcnn: fverify's MTCNN cascade in torch (default); mtcnn-tf: the mtcnn package "
        "itself on TensorFlow (pip install 'fverify[mtcnn-tf]')")
