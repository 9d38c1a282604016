"""``fverify evaluate``: metrics, and optionally a paired comparison, from score CSVs."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from fverify.atomic import write_json
from fverify.cli.options import add_json, add_threshold
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


def summary(table: ScoreTable, evaluation: Evaluation) -> str:
    """The readable report of one score file (rates printed in percent)."""
    roc = evaluation.roc
    header = (f"{table.path}: {table.num_pairs} pairs ({roc.num_positive} same, {roc.num_negative} "
              f"different), {evaluation.num_folds} folds ({table.fold_rule})")
    return "\n".join([header, *evaluation_lines(evaluation, table.fold_base)])
