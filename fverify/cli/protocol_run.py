"""What ``fverify lfw|ytf|bin|pairs`` share: build the EvalSet from the arguments (each
protocol's own ``build_evalset``), print what was found, stop there under ``--validate``.

Each protocol module registers its parser with ``add_run_options`` and
``set_defaults(func=run, build_evalset=<its builder>)``; the model run path plugs in after
the check in :func:`run`, so every run validates first.
"""
from __future__ import annotations

import argparse
import sys

from fverify.errors import FverifyError
from fverify.protocols.aggregation import aggregation_setting
from fverify.protocols.evalset import EvalSet, counts


def add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--validate", action="store_true",
        help="check the protocol file(s) and every image/video, print the counts, and exit "
        "(0 when everything is in place, non-zero on any problem); no model needed",
    )


def run(args: argparse.Namespace) -> int:
    if not args.validate and getattr(args, "model", None) is None:
        raise FverifyError(f"a model is needed to run {args.command}",
                           fix="add --validate to check the data without a model "
                           "(this version cannot run models yet)")
    evalset = args.build_evalset(args)
    setting = aggregation_setting(evalset, **aggregation_options(args))
    print_evalset(evalset, extra={"setting": setting} if setting else None)
    return 0


def aggregation_options(args: argparse.Namespace) -> dict:
    """Keyword arguments for ``pair_scores`` / ``aggregation_setting``: the video aggregation
    options of commands that have them (ytf), none for image protocols."""
    if not hasattr(args, "aggregation"):
        return {}
    return {"aggregation": args.aggregation, "k": args.k, "seed": args.seed}


def print_evalset(evalset: EvalSet, extra: dict | None = None) -> None:
    """The counts of an EvalSet (and any recorded settings in ``extra``) on stdout, its
    warnings on stderr."""
    found = counts(evalset)
    unit = "videos" if found["item_kind"] == "video" else "images"
    lines = [
        f"protocol   {found['protocol']}",
        f"source     {found['source']}  (md5 {found['source_md5']})",
        f"data       {found['data_root']}",
        f"pairs      {found['pairs']}  ({found['positives']} same, {found['negatives']} different)",
        f"folds      {len(found['folds'])}  {_fold_summary(found['folds'])}",
        f"items      {found['items']} {unit}",
    ]
    if unit == "videos":
        spread = found["frames_per_video"]
        lines.append(f"frames     {found['images']}  (per video: min {spread['min']}, "
                     f"median {spread['median']:g}, max {spread['max']})")
    else:
        lines.append(f"images     {found['images']}")
    lines.append(f"missing    {found['missing']}")
    for key, value in (extra or {}).items():
        lines.append(f"{key:<10} {value}")
    print("\n".join(lines))
    for warning in evalset.warnings:
        print(f"warning: {warning}", file=sys.stderr)


def _fold_summary(folds: list[dict]) -> str:
    """"each 300 same + 300 different" when all folds agree, else every fold's counts."""
    shapes = {(f["positives"], f["negatives"]) for f in folds}
    if len(shapes) == 1:
        positives, negatives = shapes.pop()
        return f"(each {positives} same + {negatives} different)"
    return "(" + ", ".join(f"fold {f['fold']}: {f['positives']}+{f['negatives']}" for f in folds) + ")"
