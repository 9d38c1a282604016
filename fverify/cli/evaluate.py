"""``fverify evaluate``: metrics, and optionally a paired comparison, from score CSVs."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from fverify.atomic import write_json
from fverify.cli.options import add_json, add_threshold
from fverify.errors import FverifyError
from fverify.metrics.compare import compare
from fverify.metrics.evaluation import Evaluation, evaluate
from fverify.report.text import comparison_lines, evaluation_lines
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
    parser.add_argument(
        "--test-fold",
        type=int,
        metavar="N",
        help="a fixed split instead of k-fold cross-validation: fit the threshold on every other "
        "fold and report on fold N alone (numbered as in the file; an LFW View 1 run's "
        "scores.csv: --test-fold 1, DevTest)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    table = read_scores(args.scores)
    read_s = time.perf_counter() - started
    test_fold = tested_fold(table, args.test_fold)
    evaluation = evaluate(table.scores, table.labels, table.folds, args.threshold, test_fold)
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
                    fold_rule=fold_rule(table, test_fold),
                    scores_csv=str(table.path),
                    timings={"read_s": read_s, "metrics_s": metrics_s},
                ),
            )
            print(f"wrote {args.json}")
        return 0
    table_b = read_scores(args.compare)
    check_same_pairs(table, table_b)
    evaluation_b = evaluate(table_b.scores, table_b.labels, table_b.folds, args.threshold, test_fold)
    comparison = compare(evaluation, evaluation_b)
    print()
    print(summary(table_b, evaluation_b))
    print()
    print("\n".join(comparison_lines(str(table.path), str(table_b.path), table.num_pairs, comparison)))
    if args.json:
        write_json(
            args.json,
            comparison_result(
                evaluation, evaluation_b, comparison, a_source=str(table.path), b_source=str(table_b.path)
            ),
        )
        print(f"wrote {args.json}")
    return 0


def tested_fold(table: ScoreTable, test_fold: int | None) -> int | None:
    """``--test-fold`` as a 0-based fold id, after checking that the file has that fold."""
    if test_fold is None:
        return None
    num_folds = int(table.folds.max()) + 1
    if not 0 <= test_fold - table.fold_base < num_folds:
        raise FverifyError(f"--test-fold {test_fold} is not a fold of this file (its folds are "
                           f"{table.fold_base}..{num_folds - 1 + table.fold_base})",
                           where=str(table.path), fix="give one of the file's fold ids")
    return test_fold - table.fold_base


def fold_rule(table: ScoreTable, test_fold: int | None) -> str:
    """Where the folds came from, and which one is reported in a fixed split."""
    if test_fold is None:
        return table.fold_rule
    return (f"{table.fold_rule}; fixed split: threshold fitted on every other fold, every metric "
            f"reported on fold {test_fold + table.fold_base} alone")


def summary(table: ScoreTable, evaluation: Evaluation) -> str:
    """The readable report of one score file (rates printed in percent)."""
    classes = f"{evaluation.roc.num_positive} same, {evaluation.roc.num_negative} different"
    if evaluation.test_fold is None:
        header = (f"{table.path}: {table.num_pairs} pairs ({classes}), {evaluation.num_folds} folds "
                  f"({table.fold_rule})")
    else:
        header = (f"{table.path}: {table.num_pairs} pairs in {int(table.folds.max()) + 1} folds "
                  f"({fold_rule(table, evaluation.test_fold)}); reported: {len(evaluation.labels)} "
                  f"pairs ({classes})")
    return "\n".join([header, *evaluation_lines(evaluation, table.fold_base)])
