"""One verification run: images -> embeddings -> pair scores -> metrics -> the run's files.

The one function every protocol command (``fverify lfw|ytf|bin|pairs --model``) calls after
its data passed validation. It writes, into the run folder, ``result.json`` (the RunResult of
DESIGN.md), ``scores.csv`` (one line per pair) and ``roc.png``; under ``torchrun`` every rank
embeds its share and rank 0 alone scores and writes.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fverify.align.aligned_images import AlignedImages
from fverify.atomic import atomic_directory, check_new_directory, write_json
from fverify.embedding.cache import EmbeddingCache
from fverify.embedding.distributed import rank_and_world
from fverify.embedding.extract import Extraction, extract_embeddings
from fverify.embedding.sanity import chance_level_warning
from fverify.metrics.evaluation import Evaluation, evaluate
from fverify.models.embedder import Embedder
from fverify.embedding.scoring import aggregation_setting, pair_scores
from fverify.protocols.evalset import EvalSet
from fverify.report.roc_plot import plot_roc
from fverify.results import run_result
from fverify.scores import write_scores

RESULT_JSON = "result.json"
SCORES_CSV = "scores.csv"
ROC_PNG = "roc.png"


@dataclass(frozen=True)
class ExtractionSettings:
    """How embeddings are computed (every field that changes a number is recorded)."""

    flip: str = "sum"
    batch_size: int = 128
    workers: int | None = None
    progress: bool = True
    cache: EmbeddingCache | None = None


@dataclass(frozen=True, eq=False)
class Verification:
    """A finished run: the metrics, the pair scores, and the RunResult written to ``out``."""

    evaluation: Evaluation
    scores: np.ndarray
    extraction: Extraction
    result: dict[str, Any]
    out: Path
    warnings: list[str] = field(default_factory=list)


def verify(evalset: EvalSet, embedder: Embedder, out: str | Path, *, threshold: str = "exact",
           extraction: ExtractionSettings = ExtractionSettings(),
           aggregation: dict[str, Any] | None = None) -> Verification | None:
    """Embed ``evalset``'s images with ``embedder``, score its pairs (``aggregation``: the
    keyword arguments of :func:`pair_scores` for video protocols), evaluate with the
    ``threshold`` search, and write the run's files into ``out``.

    Returns None on ``torchrun`` ranks other than 0, which only help embed.
    """
    aggregation = aggregation or {}
    setting = aggregation_setting(evalset, **aggregation)  # refuses bad settings before compute
    out = Path(out)
    check_new_directory(out)  # a run never merges into or overwrites another
    started = time.perf_counter()
    extracted = extract_embeddings(evalset.images, embedder, flip=extraction.flip,
                                   batch_size=extraction.batch_size, workers=extraction.workers,
                                   progress=extraction.progress, cache=extraction.cache)
    if rank_and_world()[0] != 0:
        return None
    scored = time.perf_counter()
    protocol = evalset.protocol
    scores = pair_scores(evalset, extracted.embeddings, **aggregation)
    evaluation = evaluate(scores, protocol.labels, protocol.folds, threshold, protocol.test_fold)
    evaluated = time.perf_counter()

    warnings = list(evalset.warnings)
    chance = chance_level_warning(evaluation.accuracy.mean, evaluation.labels)
    if chance:
        warnings.append(chance)
    model = embedder.describe()
    result = run_result(
        evaluation,
        protocol=protocol.name,
        protocol_source=protocol.source,
        protocol_md5=protocol.source_md5,
        fold_rule=protocol.fold_rule,
        scores_csv=str(out / SCORES_CSV),
        timings={"embed_s": extracted.seconds, "score_and_metrics_s": evaluated - scored,
                 "total_s": time.perf_counter() - started},
        roc_png=str(out / ROC_PNG),
        warnings=warnings,
        data_root=evalset.data_root,
        model_path=model["path"],
        model_sha256=model["sha256"],
        model_training=model.get("training"),
        preprocessing=model.get("preprocessing"),
        alignment=evalset.images.alignment if isinstance(evalset.images, AlignedImages) else None,
        embedding={
            "flip": extraction.flip,
            "batch_size": extraction.batch_size,
            "dtype": model.get("dtype"),
            "device": model.get("device"),
            "format": model.get("format"),
            "arch": model.get("arch"),
            "embedding_dim": int(extracted.embeddings.shape[1]),
            "images": len(evalset.images),
            "from_cache": extracted.from_cache,
            **setting,
        },
    )
    items1 = [protocol.items[i] for i in protocol.pairs[:, 0]]
    items2 = [protocol.items[i] for i in protocol.pairs[:, 1]]
    # The three files appear together or not at all: a killed run leaves no half run folder.
    with atomic_directory(out) as staging:
        write_scores(staging / SCORES_CSV, scores=scores, labels=protocol.labels,
                     folds=protocol.folds, items1=items1, items2=items2)
        plot_roc(evaluation, staging / ROC_PNG, title=f"{protocol.name}: {Path(model['path']).name}")
        write_json(staging / RESULT_JSON, result)
    return Verification(evaluation, scores, extracted, result, out, warnings)
