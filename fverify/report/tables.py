"""The report's numbers as one tidy table (pandas), and the text grids every writer renders
from it: the models x protocols accuracy table, one detail table per protocol, and the
comparisons. Rates are fractions in the tidy table and percent in the grids."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas loads on first use: `fverify --help` lists this command without it
    import pandas as pd

from fverify.metrics.accuracy import SE_LABEL, STD_LABEL
from fverify.metrics.evaluation import FAR_TARGETS
from fverify.report.statistics import ALPHA, Column, ReportStatistics
from fverify.report.text import percent

TIDY_COLUMNS = ("model", "protocol", "metric", "value", "versus", "note")
UNRESOLVABLE = "unresolvable"
COMPARISON_METRICS = ("accuracy_diff", "ci95_low", "ci95_high", "mcnemar_a_only", "mcnemar_b_only",
                      "mcnemar_p", "holm_p")


@dataclass(frozen=True)
class Grid:
    """A table of display strings: a header and rows of the same length, plus notes that say
    what its symbols mean. ``text_columns`` are the indices of columns of words (set flush
    left); the others hold numbers (set flush right)."""

    header: list[str]
    rows: list[list[str]]
    notes: list[str]
    text_columns: tuple[int, ...] = (0,)


def tidy_frame(statistics: ReportStatistics) -> pd.DataFrame:
    """One row per model x protocol x metric: ``accuracy_mean``, ``accuracy_se`` (and
    ``accuracy_std`` on request), ``auc``, ``eer``, ``tar_at_far_<FAR>`` (empty value and the
    reason in ``note`` when unresolvable); then per comparison (``model`` = A, ``versus`` = B)
    the metrics of COMPARISON_METRICS, the verdict as the note of ``holm_p``."""
    records = []
    for column in statistics.columns:
        for row, run in statistics.runs_of(column.protocol):
            evaluation = run.evaluation
            values = {"accuracy_mean": evaluation.accuracy.mean, "accuracy_se": evaluation.accuracy.se}
            if statistics.show_std:
                values["accuracy_std"] = evaluation.accuracy.std
            values |= {"auc": evaluation.auc, "eer": evaluation.eer.rate}
            notes = {"accuracy_se": SE_LABEL, "accuracy_std": STD_LABEL}
            for target, point in evaluation.tar_at_far.items():
                values[f"tar_at_far_{target}"] = point.tar
                if point.tar is None:
                    notes[f"tar_at_far_{target}"] = f"{UNRESOLVABLE}: {point.reason}"
            records += [(row, column.protocol, metric, value, "", notes.get(metric, ""))
                        for metric, value in values.items()]
    for comparison in statistics.comparisons:
        paired = comparison.paired
        values = (paired.accuracy_diff, *paired.ci95, paired.a_only, paired.b_only, paired.p_value,
                  comparison.p_holm)
        for metric, value in zip(COMPARISON_METRICS, values):
            note = comparison.verdict if metric == "holm_p" else ""
            records.append((comparison.a, comparison.protocol, metric, value, comparison.b, note))
    import pandas as pd

    frame = pd.DataFrame.from_records(records, columns=list(TIDY_COLUMNS))
    frame["value"] = pd.to_numeric(frame["value"])
    return frame


def accuracy_grid(frame: pd.DataFrame, statistics: ReportStatistics) -> Grid:
    """Models x protocols, each cell accuracy mean ± se (and the std, labelled, on request)."""
    values = _metric_table(frame)
    rows = []
    for row in statistics.rows:
        cells = [row]
        for column in statistics.columns:
            key = (row, column.protocol)
            cells.append(_accuracy_text(values, key, statistics.show_std) if key in values.index else "")
        rows.append(cells)
    notes = [f"accuracy: mean over folds ± the {SE_LABEL}"]
    if statistics.show_std:
        notes.append(f"std: the {STD_LABEL}")
    notes.append("empty cell: that model was not run on that protocol")
    return Grid(["model", *[column.protocol for column in statistics.columns]], rows, notes)


def protocol_grid(frame: pd.DataFrame, statistics: ReportStatistics, column: Column) -> Grid:
    """Every metric of each model on one protocol."""
    values = _metric_table(frame)
    header = ["model", "accuracy", *(["std"] if statistics.show_std else []), "AUC", "EER",
              *[f"TAR@FAR={target}" for target in FAR_TARGETS]]
    rows = []
    for row, _ in statistics.runs_of(column.protocol):
        metrics = values.loc[(row, column.protocol)]
        cells = [row, _mean_and_se(metrics)]
        if statistics.show_std:
            cells.append(percent(metrics["accuracy_std"]))
        cells += [f"{metrics['auc']:.4f}", percent(metrics["eer"])]
        for target in FAR_TARGETS:
            tar = metrics[f"tar_at_far_{target}"]
            cells.append(UNRESOLVABLE if math.isnan(tar) else percent(tar))
        rows.append(cells)
    notes = [f"{column.num_pairs} pairs ({column.num_positive} same, {column.num_negative} different), "
             f"{column.num_folds} folds, threshold search {column.threshold_method!r}, protocol file md5 {column.md5}",
             f"accuracy: mean over folds ± the {SE_LABEL}; AUC, EER and TAR@FAR from the pooled ROC of all pairs"]
    if statistics.show_std:
        notes.append(f"std: the {STD_LABEL}")
    notes += [f"TAR@FAR={target} {UNRESOLVABLE}: FAR {target} is below 1/{column.num_negative} negative pairs, "
              f"so not one false accept is allowed; it needs at least {math.ceil(1 / float(target))} negatives"
              for target in FAR_TARGETS if float(target) < 1 / column.num_negative]
    return Grid(header, rows, notes)


def comparison_grid(statistics: ReportStatistics) -> Grid:
    """One line per comparison A - B on one protocol, with its verdict."""
    header = ["A", "B", "protocol", "A - B", "bootstrap 95% CI", "only A right", "only B right",
              "McNemar p", "Holm p", "verdict"]
    rows = []
    for comparison in statistics.comparisons:
        paired = comparison.paired
        low, high = paired.ci95
        rows.append([comparison.a, comparison.b, comparison.protocol, percent(paired.accuracy_diff, signed=True),
                     f"[{percent(low, signed=True)}, {percent(high, signed=True)}]", str(paired.a_only),
                     str(paired.b_only), f"{paired.p_value:.4g}", f"{comparison.p_holm:.4g}", comparison.verdict])
    return Grid(header, rows, [comparison_summary(statistics)], text_columns=(0, 1, 2, 9))


def comparison_summary(statistics: ReportStatistics) -> str:
    """How many comparisons were made, how they were chosen and corrected."""
    count = len(statistics.comparisons)
    if not count:
        return f"No paired comparisons were made ({statistics.pairing})."
    first = statistics.comparisons[0].paired
    return (f"{count} paired comparison{'s' if count > 1 else ''} made ({statistics.pairing}), each on "
            "the same pairs with each model at its own per-fold thresholds: exact McNemar test on the "
            f"pairs only one model decides right, and a percentile bootstrap 95% CI of A - B "
            f"({first.resamples} resamples of pairs within folds, seed {first.seed}). "
            f"The p-values are corrected with Holm's step-down method across all {count} comparisons; "
            f"a verdict is significant when the Holm-adjusted p is below {ALPHA}.")


def _metric_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The per-model metrics as a (model, protocol) x metric table."""
    plain = frame[frame["versus"] == ""]
    return plain.pivot(index=["model", "protocol"], columns="metric", values="value")


def _mean_and_se(metrics: pd.Series) -> str:
    """Accuracy mean ± standard error; a fixed split (LFW View 1: one tested fold) has no spread
    over folds, so it says so instead of printing a number."""
    if math.isnan(metrics["accuracy_se"]):
        return f"{percent(metrics['accuracy_mean'])} (one test fold)"
    return f"{percent(metrics['accuracy_mean'])} ± {percent(metrics['accuracy_se'])}"


def _accuracy_text(values: pd.DataFrame, key: tuple[str, str], show_std: bool) -> str:
    metrics = values.loc[key]
    text = _mean_and_se(metrics)
    return f"{text} (std {percent(metrics['accuracy_std'])})" if show_std else text
