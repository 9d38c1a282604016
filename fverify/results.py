"""The result JSON documents: a run (``fverify.run/1``) and a paired comparison
(``fverify.compare/1``), rendered from the metric objects; key names are DESIGN.md's."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fverify import __version__
from fverify.metrics.accuracy import SE_LABEL, STD_LABEL
from fverify.metrics.compare import PairedComparison
from fverify.metrics.evaluation import FOLD_ROC_FPR, Evaluation

RUN_SCHEMA = "fverify.run/1"
COMPARE_SCHEMA = "fverify.compare/1"


def metrics_json(evaluation: Evaluation) -> dict[str, Any]:
    """``metrics`` of a result: every rate a fraction in [0, 1]; null TAR@FAR values come with
    their reason in ``tar_at_far_reasons``."""
    accuracy = evaluation.accuracy
    search = evaluation.search
    return {
        "num_pairs": len(evaluation.labels),
        "num_positive": evaluation.roc.num_positive,
        "num_negative": evaluation.roc.num_negative,
        "num_folds": evaluation.num_folds,
        # null after k-fold cross-validation; the one reported fold's id (0-based) after a fixed
        # split, which re-evaluating scores_csv needs (fverify evaluate --test-fold)
        "test_fold": evaluation.test_fold,
        "threshold_rule": search.rule,
        "accuracy": {
            "mean": accuracy.mean,
            "std": accuracy.std,
            "se": accuracy.se,
            "std_is": STD_LABEL,
            "se_is": SE_LABEL,
            "folds": [
                {"fold": fold, "threshold": float(threshold), "accuracy": float(test),
                 "train_accuracy": float(train)}
                for fold, threshold, test, train in zip(
                    evaluation.tested_folds, search.thresholds, search.test_accuracy, search.train_accuracy)
            ],
        },
        "auc": evaluation.auc,
        "eer": evaluation.eer.rate,
        "eer_threshold": evaluation.eer.threshold,
        "tar_at_far": {target: point.tar for target, point in evaluation.tar_at_far.items()},
        "tar_at_far_thresholds": {target: point.threshold for target, point in evaluation.tar_at_far.items()},
        "tar_at_far_reasons": {
            target: point.reason for target, point in evaluation.tar_at_far.items() if point.reason
        },
        "roc_fold_averaged": {
            "method": "vertical averaging of the per-fold ROCs (Fawcett 2006), std ddof=0 over folds",
            "fpr": FOLD_ROC_FPR.tolist(),
            "tpr_mean": evaluation.fold_roc_tpr_mean.tolist(),
            "tpr_std": evaluation.fold_roc_tpr_std.tolist(),
        },
    }


def run_result(
    evaluation: Evaluation,
    *,
    protocol: str,
    protocol_source: str,
    protocol_md5: str,
    fold_rule: str,
    scores_csv: str | None,
    timings: Mapping[str, float],
    data_root: str | None = None,
    model_path: str | None = None,
    model_sha256: str | None = None,
    preprocessing: Mapping[str, Any] | None = None,
    embedding: Mapping[str, Any] | None = None,
    roc_png: str | None = None,
    warnings: Sequence[str] = (),
    model_training: Mapping[str, Any] | None = None,
    alignment: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The RunResult document of DESIGN.md: everything that changes a number, then the numbers.

    ``protocol`` names the pair list (``"lfw"``, ``"ytf"``, ``"scores-csv"``, ...) and
    ``protocol_source`` / ``protocol_md5`` the file it was read from; ``fold_rule`` where the
    folds came from. Model fields are null for ``fverify evaluate``. ``timings`` in seconds.
    ``model_training``: the ``training`` record of a model from ``fverify train`` (else null).
    ``alignment``: how raw images were aligned on the fly (``--align``; else null).
    """
    return {
        "schema": RUN_SCHEMA,
        "fverify_version": __version__,
        "protocol": {"name": protocol, "source": protocol_source, "md5": protocol_md5, "folds": fold_rule},
        "data_root": data_root,
        "model": {"path": model_path, "sha256": model_sha256,
                  "training": dict(model_training) if model_training is not None else None},
        "alignment": dict(alignment) if alignment is not None else None,
        "preprocessing": dict(preprocessing) if preprocessing is not None else None,
        "embedding": dict(embedding) if embedding is not None else None,
        "threshold_method": evaluation.search.method,
        "metrics": metrics_json(evaluation),
        "scores_csv": scores_csv,
        "roc_png": roc_png,
        "warnings": list(warnings),
        "timings": {name: float(seconds) for name, seconds in timings.items()},
    }


def comparison_result(
    a: Evaluation, b: Evaluation, comparison: PairedComparison, *, a_source: str, b_source: str
) -> dict[str, Any]:
    """The comparison document of DESIGN.md; ``accuracy_diff`` and the interval are A - B as
    fractions, ``a_only`` counts pairs only A decides right (each at its own fold thresholds)."""
    return {
        "schema": COMPARE_SCHEMA,
        "fverify_version": __version__,
        "a_source": a_source,
        "b_source": b_source,
        "threshold_method": a.search.method,
        "a": metrics_json(a),
        "b": metrics_json(b),
        "accuracy_diff": comparison.accuracy_diff,
        "mcnemar": {"a_only": comparison.a_only, "b_only": comparison.b_only, "p": comparison.p_value},
        "bootstrap_ci95": list(comparison.ci95),
        "bootstrap": {
            "resamples": comparison.resamples,
            "seed": comparison.seed,
            "method": "percentile interval; pairs resampled with replacement within each fold, thresholds fixed",
        },
    }
