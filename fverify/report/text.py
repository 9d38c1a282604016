"""Plain-text renderings of an :class:`Evaluation` and a paired comparison (percent only here)."""
from __future__ import annotations

from fverify.metrics.accuracy import SE_LABEL, STD_LABEL
from fverify.metrics.compare import PairedComparison
from fverify.metrics.evaluation import Evaluation


def percent(fraction: float, signed: bool = False) -> str:
    return f"{100 * fraction:+.3f}%" if signed else f"{100 * fraction:.3f}%"


def evaluation_lines(evaluation: Evaluation, fold_base: int = 0) -> list[str]:
    """Accuracy (mean ± se, and insightface's std, each labelled), per-fold thresholds, AUC, EER
    and TAR@FAR. ``fold_base`` is the number the first fold is printed as (its id in the input)."""
    accuracy, search, roc = evaluation.accuracy, evaluation.search, evaluation.roc
    lines = [f"threshold search: {search.method}, {search.rule}"]
    if evaluation.test_fold is None:
        lines += [
            f"accuracy  {percent(accuracy.mean)} ± {percent(accuracy.se)}  [± is the {SE_LABEL}]",
            f"          std {percent(accuracy.std)}  [{STD_LABEL}]",
        ]
    else:
        lines.append(f"accuracy  {percent(accuracy.mean)}  [fold {evaluation.test_fold + fold_base} "
                     "alone, threshold fitted on the other folds: no spread over folds]")
    pooled = "all pairs" if evaluation.test_fold is None else "the tested fold's pairs"
    lines.append(f"  {'fold':>4}  {'threshold':>12}  {'train acc':>9}  {'test acc':>9}")
    for fold, threshold, train, test in zip(
        evaluation.tested_folds, search.thresholds, search.train_accuracy, search.test_accuracy
    ):
        lines.append(f"  {fold + fold_base:>4}  {threshold:>12.6g}  {percent(train):>9}  {percent(test):>9}")
    lines += [
        f"AUC       {evaluation.auc:.6f}  (pooled ROC of {pooled})",
        f"EER       {percent(evaluation.eer.rate)} at score threshold "
        f"{evaluation.eer.threshold:.6g} (interpolated)",
    ]
    for target, point in evaluation.tar_at_far.items():
        value = (
            f"{percent(point.tar)} at score threshold {point.threshold:.6g}"
            if point.tar is not None
            else f"unresolvable (n_neg={roc.num_negative}): {point.reason}"
        )
        lines.append(f"TAR@FAR={target}  {value}")
    return lines


def comparison_lines(a_name: str, b_name: str, num_pairs: int, comparison: PairedComparison) -> list[str]:
    """A paired comparison A - B: accuracy difference with its bootstrap CI, exact McNemar."""
    low, high = comparison.ci95
    return [
        f"paired comparison: A = {a_name}, B = {b_name}",
        f"  same {num_pairs} pairs, each model at its own per-fold thresholds",
        f"  accuracy A - B  {percent(comparison.accuracy_diff, signed=True)}, bootstrap 95% CI "
        f"[{percent(low, signed=True)}, {percent(high, signed=True)}] "
        f"({comparison.resamples} resamples of pairs within folds, seed {comparison.seed})",
        f"  McNemar exact   only A right: {comparison.a_only}, only B right: {comparison.b_only}, "
        f"two-sided p = {comparison.p_value:.4g}",
        "  => " + ("a significant" if comparison.p_value < 0.05 else "no significant")
        + " difference at the 5% level (McNemar)",
    ]
