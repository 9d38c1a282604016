"""The one statistics object of a report: runs placed in a models x protocols table, and the
paired comparisons with Holm's correction. Every writer and figure renders this; nothing in
them computes a metric again."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fverify.errors import FverifyError
from fverify.metrics.compare import PairedComparison, compare
from fverify.metrics.holm import holm_adjust
from fverify.report.runs import Run
from fverify.report.train_metrics import TrainMetrics
from fverify.scores import check_same_pairs

ALPHA = 0.05  # family-wise error rate of the verdicts, after Holm's correction
# A RunResult of `fverify evaluate` names its protocol after its own scores file, whose md5
# differs for every model by construction: its pairs are checked pair by pair instead.
SCORES_FILE_PROTOCOL = "scores-csv"


@dataclass(frozen=True, eq=False)
class Column:
    """One protocol: its runs share the protocol file (md5) and the same pairs, in order."""

    protocol: str
    md5: str
    threshold_method: str
    num_pairs: int
    num_positive: int
    num_negative: int
    num_folds: int


@dataclass(frozen=True, eq=False)
class Comparison:
    """Row ``a`` against row ``b`` on one protocol (A - B), with the Holm-adjusted p."""

    a: str
    b: str
    protocol: str
    paired: PairedComparison
    p_holm: float

    @property
    def significant(self) -> bool:
        return self.p_holm < ALPHA

    @property
    def verdict(self) -> str:
        """The finding in plain words; rates in percentage points."""
        diff = 100 * self.paired.accuracy_diff
        if not self.significant:
            return (f"no significant difference between {self.a} and {self.b} on {self.protocol} "
                    f"({diff:+.2f} points, Holm-adjusted p = {self.p_holm:.3g} >= {ALPHA})")
        better, worse = (self.a, self.b) if self.paired.a_only > self.paired.b_only else (self.b, self.a)
        return (f"{better} is more accurate than {worse} on {self.protocol} ({self.a} - {self.b} = "
                f"{diff:+.2f} points, Holm-adjusted p = {self.p_holm:.3g} < {ALPHA})")


@dataclass(frozen=True, eq=False)
class ReportStatistics:
    """Rows (model labels, in the order first given) x columns (protocols, same), one run per
    cell at most, the comparisons made (``pairing`` says how they were chosen), and the
    trainer's metrics of the rows that came from ``fverify train`` (or why they are missing)."""

    rows: tuple[str, ...]
    columns: tuple[Column, ...]
    cells: dict[tuple[str, str], Run]
    comparisons: tuple[Comparison, ...]
    pairing: str
    show_std: bool
    training: dict[str, TrainMetrics]
    training_notes: tuple[str, ...]

    def cell(self, row: str, protocol: str) -> Run | None:
        return self.cells.get((row, protocol))

    def runs_of(self, protocol: str) -> list[tuple[str, Run]]:
        """(row, run) of every model evaluated on ``protocol``, in row order."""
        return [(row, self.cells[row, protocol]) for row in self.rows if (row, protocol) in self.cells]


def build_statistics(runs: Sequence[Run], *, baseline: str | None = None, show_std: bool = False,
                     training: dict[str, TrainMetrics] | None = None,
                     training_notes: Sequence[str] = ()) -> ReportStatistics:
    """Place ``runs`` in the table, check each column holds one protocol and one pair set,
    choose the comparisons (each row against ``baseline``, else each HM-X against its X when
    the checkpoints' training records say so), run them and correct them with Holm.
    ``training`` (row label -> trainer metrics) and ``training_notes`` come from
    :func:`fverify.report.runs.load_training_metrics`."""
    rows = tuple(dict.fromkeys(run.label for run in runs))
    protocols = tuple(dict.fromkeys(run.protocol for run in runs))
    cells: dict[tuple[str, str], Run] = {}
    for run in runs:
        if (run.label, run.protocol) in cells:
            other = cells[run.label, run.protocol]
            raise FverifyError(f"two runs of {run.label!r} on {run.protocol} ({other.source} and this one)",
                               where=str(run.source),
                               fix="label them apart with --name RUN=LABEL, or give one of them")
        cells[run.label, run.protocol] = run
    _check_rows(rows, runs)
    columns = tuple(_column(protocol, [run for run in runs if run.protocol == protocol]) for protocol in protocols)
    pairs, pairing = _choose_pairs(rows, runs, baseline)
    made = [(a, b, column.protocol) for a, b in pairs for column in columns
            if (a, column.protocol) in cells and (b, column.protocol) in cells]
    paired = [compare(cells[a, protocol].evaluation, cells[b, protocol].evaluation) for a, b, protocol in made]
    adjusted = holm_adjust([comparison.p_value for comparison in paired]) if paired else np.array([])
    comparisons = tuple(Comparison(a, b, protocol, result, float(p))
                        for (a, b, protocol), result, p in zip(made, paired, adjusted))
    training = {row: training[row] for row in rows if row in (training or {})}  # in row order
    return ReportStatistics(rows, columns, cells, comparisons, pairing, show_std, training,
                            tuple(training_notes))


def _check_rows(rows: Sequence[str], runs: Sequence[Run]) -> None:
    """One row is one model: refuse a label shared by runs of different checkpoints."""
    for row in rows:
        models = {run.model_sha256: run for run in runs if run.label == row and run.model_sha256}
        if len(models) > 1:
            first, second = list(models.values())[:2]
            raise FverifyError(f"runs of two different models are both labelled {row!r} "
                               f"({first.source} and {second.source})", where=str(second.source),
                               fix="label them apart with --name RUN=LABEL")


def _column(protocol: str, runs: Sequence[Run]) -> Column:
    """Refuse a column whose runs differ in protocol file, pairs or threshold search."""
    first = runs[0]
    for run in runs[1:]:
        if protocol != SCORES_FILE_PROTOCOL and run.result["protocol"]["md5"] != first.result["protocol"]["md5"]:
            raise FverifyError(
                f"protocol {protocol} was read from a different file (md5 {run.result['protocol']['md5']}) "
                f"than in {first.source} (md5 {first.result['protocol']['md5']})", where=str(run.source),
                fix="one column compares models on the same protocol file: report these runs separately")
        check_same_pairs(first.scores, run.scores)
        for column in ("item1", "item2"):
            items_a, items_b = first.scores.columns.get(column), run.scores.columns.get(column)
            if items_a is not None and items_b is not None and items_a != items_b:
                index = next(i for i, (x, y) in enumerate(zip(items_a, items_b)) if x != y)
                raise FverifyError(
                    f"pair {index} compares {column} {items_b[index]!r}, but in {first.scores.path} "
                    f"{items_a[index]!r}", where=f"{run.scores.path}:{int(run.scores.lines[index])}",
                    fix="one column compares models on the same pairs: report these runs separately")
        if run.result["threshold_method"] != first.result["threshold_method"]:
            raise FverifyError(
                f"threshold search {run.result['threshold_method']!r}, but {first.source} used "
                f"{first.result['threshold_method']!r}", where=str(run.source),
                fix="run every model of a comparison with the same --threshold")
    roc = first.evaluation.roc
    return Column(protocol, first.result["protocol"]["md5"], first.result["threshold_method"],
                  first.scores.num_pairs, roc.num_positive, roc.num_negative, first.evaluation.num_folds)


def _same_training(hm: dict[str, Any], base: dict[str, Any]) -> bool:
    """Whether ``base`` is the training of ``hm`` without hard mining: the same pairing key
    (whatever the names), or, when either checkpoint predates the key, the base recipe's name."""
    if hm.get("pairing_key") and base.get("pairing_key"):
        return hm["pairing_key"] == base["pairing_key"]
    return base.get("recipe") == hm["base_recipe"]


def _choose_pairs(rows: Sequence[str], runs: Sequence[Run], baseline: str | None) -> tuple[list[tuple[str, str]], str]:
    """(A, B) row pairs to compare and a sentence saying how they were chosen."""
    if baseline is not None:
        if baseline not in rows:
            raise FverifyError(f"--baseline {baseline!r} is none of the models ({', '.join(rows)})",
                               fix="give one of the row labels, or label a run with --name RUN=LABEL")
        return [(row, baseline) for row in rows if row != baseline], f"each model against the baseline {baseline}"
    training = {run.label: run.training for run in runs if run.training}
    pairs = []
    for row, record in training.items():
        if not (record.get("hard_mining") and record.get("base_recipe")):
            continue
        bases = [other for other, r in training.items() if not r.get("hard_mining") and _same_training(record, r)]
        if len(bases) > 1:
            raise FverifyError(f"{row} (hard mining on {record['base_recipe']}) could be compared with "
                               f"any of {', '.join(bases)}", fix="choose with --baseline LABEL")
        if bases:
            pairs.append((row, bases[0]))
    if pairs:
        return pairs, "each hard-mining model against the model of its base recipe (from the checkpoints' training records)"
    return [], "none: no --baseline given and no hard-mining model with its base-recipe model among the runs"
