"""What ``fverify lfw|ytf|bin|pairs`` share: build the EvalSet from the arguments (each
protocol's own ``build_evalset``), print what was found, stop there under ``--validate``, else
run the model on it (:func:`fverify.verification.verify`) and print the numbers.

Each protocol module registers its parser with ``add_run_options`` and
``set_defaults(func=run, build_evalset=<its builder>)``; every run validates first.
"""
from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path

from fverify.atomic import (check_new_directory, check_new_file, check_writable_directory,
                            write_json)
from fverify.cli import options
from fverify.data.image_header import EXAMPLES, ImageCheck, check_images, check_sizes
from fverify.errors import FverifyError
from fverify.embedding.scoring import aggregation_setting
from fverify.protocols.evalset import EvalSet, counts


RUNS_DIR = Path("reports/runs")


def add_run_options(parser: argparse.ArgumentParser, face_choice: str) -> None:
    """The options of a model run; ``face_choice``: the protocol's policy under ``--align``."""
    parser.add_argument(
        "--validate", action="store_true",
        help="check the protocol file(s) and every image/video (present, a complete JPEG/PNG, "
        "its size; with --input-size, that size), print the counts, and exit (0 when everything "
        "is in place, non-zero on any problem); no model needed",
    )
    options.add_model(parser, required=False)
    options.add_out(parser, f"{RUNS_DIR}/<protocol>-<model>-<UTC timestamp>/")
    options.add_threshold(parser)
    options.add_embedding(parser)
    options.add_extraction(parser)
    options.add_json(parser)
    options.add_model_format(parser)
    options.add_align(parser, face_choice)


def run(args: argparse.Namespace) -> int:
    if not args.validate and args.model is None:
        raise FverifyError(f"a model is needed to run {args.command}",
                           fix="add --model MODEL, or --validate to check the data without one")
    if not args.validate:
        check_outputs(args)
    evalset = args.build_evalset(args)
    setting = aggregation_setting(evalset, **aggregation_options(args))
    # Under --validate there is no model: --input-size, when given, is the size to expect.
    checked = check_images(evalset.images, args.input_size if args.validate else None)
    extra = {"sizes": checked.describe_sizes()}
    print_evalset(evalset, extra={**extra, "setting": setting} if setting else extra)
    if args.validate:
        return 0
    return run_model(args, evalset, checked)


def run_model(args: argparse.Namespace, evalset: EvalSet, checked: ImageCheck) -> int:
    """Load the model, check the images' size against its input, run the verification, print
    the summary and where the files went."""
    from fverify.align.aligned_images import crops_root
    from fverify.embedding.cache import default_cache_dir
    from fverify.embedding.distributed import init_from_torchrun
    from fverify.models.loading import load_embedder
    from fverify.models.preprocessing import PreprocessingFlags

    out = args.out or RUNS_DIR / default_run_name(evalset.protocol.name, args.model)
    check_new_directory(out)  # the default folder too, before the model is imported or hashed
    init_from_torchrun(args.device)
    flags = PreprocessingFlags(input_size=args.input_size, color=args.color, mean=args.mean, std=args.std)
    embedder = load_embedder(args.model, arch=args.arch, flags=flags, device=args.device, dtype=args.dtype)
    cache_dir = args.cache_dir or default_cache_dir()
    if args.align:
        from fverify.align.templates import check_crop_size

        check_crop_size(args.align, embedder.input_size)
        # Under --no-cache the crops live as long as the run.
        with (tempfile.TemporaryDirectory(prefix="fverify-aligned-") if args.no_cache
              else contextlib.nullcontext(crops_root(cache_dir))) as root:
            evalset = align(args, evalset, Path(root), progress=not args.no_progress)
            return run_checked_model(args, evalset, embedder, out, cache_dir)
    check_sizes(checked, evalset.images, embedder.input_size)
    return run_checked_model(args, evalset, embedder, out, cache_dir)


def align(args: argparse.Namespace, evalset: EvalSet, root: Path, progress: bool = True) -> EvalSet:
    """``evalset`` with its raw images aligned (``--align``), crops cached under ``root``;
    prints what was done and the images that took the centre crop."""
    from fverify.align.aligned_images import align_evalset, alignment_settings

    settings = alignment_settings(args.align, args.align_face_choice, args.detector)
    aligned = align_evalset(evalset, settings, root, device=args.device, progress=progress)
    fallback = aligned.images.alignment["fallback"]
    print(f"aligned    {len(aligned.images)} images: detector {args.detector}, {args.align} template, "
          f"{args.align_face_choice} face; no face found in {fallback['count']} "
          f"({fallback['method']} instead)")
    for name in fallback["images"][:EXAMPLES]:
        print(f"  no face  {name}")
    if fallback["count"] > EXAMPLES:
        print(f"  ... and {fallback['count'] - EXAMPLES} more, all listed in result.json")
    return aligned


def run_checked_model(args: argparse.Namespace, evalset: EvalSet, embedder, out: Path, cache_dir: Path) -> int:
    """Run the verification on images known to fit the model; print the summary and where the
    files went."""
    from fverify.embedding.cache import EmbeddingCache
    from fverify.report.text import evaluation_lines
    from fverify.verification import ExtractionSettings, verify

    cache = None if args.no_cache else EmbeddingCache(cache_dir)
    settings = ExtractionSettings(flip=args.flip, batch_size=args.batch_size, workers=args.workers,
                                  progress=not args.no_progress, cache=cache)
    done = verify(evalset, embedder, out, threshold=args.threshold, extraction=settings,
                  aggregation=aggregation_options(args))
    if done is None:  # a torchrun rank other than 0: it helped embed, rank 0 reports
        return 0
    model = done.result["model"]
    embedding = done.result["embedding"]
    print(f"model      {model['path']}  (sha256 {model['sha256'] or 'n/a'})")
    settings = f"flip {embedding['flip']}"
    if embedding["dtype"]:  # a Python callable runs as it likes: no dtype or device of ours
        settings += f", {embedding['dtype']} on {embedding['device']}"
    work = ("from the cache" if embedding["from_cache"]
            else f"{embedding['images']} images in {done.extraction.seconds:.1f} s")
    print(f"embedding  {embedding['arch'] or embedding['format']}, {embedding['embedding_dim']}-d, "
          f"{settings}; {work}")
    print("\n".join(evaluation_lines(done.evaluation)))
    for warning in done.warnings[len(evalset.warnings):]:  # the data's own were printed above
        print(f"warning: {warning}", file=sys.stderr)
    print(f"wrote {done.out}/: result.json, scores.csv, roc.png")
    if args.json:
        write_json(args.json, done.result)
        print(f"wrote {args.json}")
    return 0


def check_outputs(args: argparse.Namespace) -> None:
    """Refuse every output the user named (``--out``, ``--json``, ``--cache-dir``) that cannot
    be written, before the data is checked or the model loaded: a run never fails at its end
    over an argument known to be bad at its start."""
    if args.out is not None:
        check_new_directory(args.out)
    if args.json is not None:
        check_new_file(args.json)
    if args.cache_dir is not None and not args.no_cache:
        check_writable_directory(args.cache_dir)


def default_run_name(protocol: str, model: str) -> str:
    """``<protocol>-<model>-<UTC time>``, e.g. ``lfw-view2-r18-20261122T153000Z``; the model
    is its file name without extension (``file-function`` for ``file.py:function``)."""
    path, _, function = model.partition(".py:")
    stem = Path(path).stem if function else Path(model).stem
    name = f"{stem}-{function}" if function else stem
    return f"{protocol}-{name}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"


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
        f"fold rule  {found['fold_rule']}",
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
