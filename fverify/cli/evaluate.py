"""``fverify evaluate``: metrics, and optionally a paired comparison, from score CSVs."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from fverify.atomic import write_json
from fverify.cli.options import add_json, add_threshold
from fverify.metrics.accuracy import SE_LABEL, STD_LABEL
from fverify.metrics.compare import PairedComparison, compare
from fverify.metrics.evaluation import Evaluation, evaluate
from fverify.results import comparison_result, run_result
from fverify.scores import ScoreTable, check_same_pairs, read_scores


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="metrics from your own pair scores (CSV with score,label[,fold])",
        description="k-fold accuracy, AUC, EER and TAR@FAR from a CSV of pair scores with a header "
        "naming score (higher = more alike), label (1 same, 0 different) and optionally fold; "
        "with --compare, a paired comparison of two score files of the same pairs.",
    )
    parser.add_argument("scores", type=Path, metavar="SCORES.csv", help="pair scores (model A with --compare)")
    add_threshold(parser)
    add_json(parser)
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="B.csv",
        help="scores of model B on the same pairs: McNemar test and bootstrap CI of A - B "
        "(--json then writes the comparison)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    table = read_scores(args.scores)
    read_s = time.perf_counter() - started
    evaluation = evaluate(table.scores, table.labels, table.folds, args.threshold)
    metrics_s = time.perf_counter() - started - read_s
    print(summary(table, evaluation))
    if args.compare is None:
        if args.json:
            write_json(
                args.json,
                run_result(
                    evaluation,
                    protocol="scores-csv",
                    protocol_source=str(table.path),
                    protocol_md5=table.md5,
                    fold_rule=table.fold_rule,
                    scores_csv=str(table.path),
                    timings={"read_s": read_s, "metrics_s": metrics_s},
                ),
            )
            print(f"wrote {args.json}")
        return 0
    table_b = read_scores(args.compare)
    check_same_pairs(table, table_b)
    evaluation_b = evaluate(table_b.scores, table_b.labels, table_b.folds, args.threshold)
    comparison = compare(evaluation, evaluation_b)
    print()
    print(summary(table_b, evaluation_b))
    print()
    print(comparison_summary(table, table_b, comparison))
    if args.json:
        write_json(
            args.json,
            comparison_result(
                evaluation, evaluation_b, comparison, a_source=str(table.path), b_source=str(table_b.path)
            ),
        )
        print(f"wrote {args.json}")
    return 0


def _percent(fraction: float, signed: bool = False) -> str:
    return f"{100 * fraction:+.3f}%" if signed else f"{100 * fraction:.3f}%"


def summary(table: ScoreTable, evaluation: Evaluation) -> str:
    """The readable report of one score file (rates printed in percent)."""
    accuracy, search, roc = evaluation.accuracy, evaluation.search, evaluation.roc
    lines = [
        f"{table.path}: {table.num_pairs} pairs ({roc.num_positive} same, {roc.num_negative} different), "
        f"{evaluation.num_folds} folds ({table.fold_rule})",
        f"threshold search: {search.method}, {search.rule}",
        f"accuracy  {_percent(accuracy.mean)} ± {_percent(accuracy.se)}  [± is the {SE_LABEL}]",
        f"          std {_percent(accuracy.std)}  [{STD_LABEL}]",
        f"  {'fold':>4}  {'threshold':>12}  {'train acc':>9}  {'test acc':>9}",
    ]
    for fold, (threshold, train, test) in enumerate(
        zip(search.thresholds, search.train_accuracy, search.test_accuracy)
    ):
        lines.append(
            f"  {fold + table.fold_base:>4}  {threshold:>12.6g}  {_percent(train):>9}  {_percent(test):>9}"
        )
    lines += [
        f"AUC       {evaluation.auc:.6f}  (pooled ROC of all pairs)",
        f"EER       {_percent(evaluation.eer.rate)} at score threshold "
        f"{evaluation.eer.threshold:.6g} (interpolated)",
    ]
    for target, point in evaluation.tar_at_far.items():
        value = (
            f"{_percent(point.tar)} at score threshold {point.threshold:.6g}"
            if point.tar is not None
            else f"unresolvable (n_neg={roc.num_negative}): {point.reason}"
        )
        lines.append(f"TAR@FAR={target}  {value}")
    return "\n".join(lines)


def comparison_summary(a: ScoreTable, b: ScoreTable, comparison: PairedComparison) -> str:
    """The readable report of a paired comparison A - B (percent)."""
    low, high = comparison.ci95
    return "\n".join(
        [
            f"paired comparison: A = {a.path}, B = {b.path}",
            f"  same {a.num_pairs} pairs, each model at its own per-fold thresholds",
            f"  accuracy A - B  {_percent(comparison.accuracy_diff, signed=True)}, bootstrap 95% CI "
            f"[{_percent(low, signed=True)}, {_percent(high, signed=True)}] "
            f"({comparison.resamples} resamples of pairs within folds, seed {comparison.seed})",
            f"  McNemar exact   only A right: {comparison.a_only}, only B right: {comparison.b_only}, "
            f"two-sided p = {comparison.p_value:.4g}",
            "  => " + ("a significant" if comparison.p_value < 0.05 else "no significant")
            + " difference at the 5% level (McNemar)",
        ]
    )
