"""Read a training run's ``metrics.jsonl`` (written by ``fverify train``), checked line by line.

The schema ``fverify.train-metrics/1`` is declared once, in :mod:`fverify.train.metrics_schema`
(the trainer checks what it writes against it). A resumed run appends a new start line; a
later record for the same step (interval) or epoch supersedes an earlier one. Every problem is
an :class:`FverifyError` naming ``file:line``. No torch: ``fverify report`` reads these files too.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fverify.errors import FverifyError, at
from fverify.train.metrics_schema import (FIX_FILE, METRICS_FILE, SCHEMA, EpochRecord,
                                          HardMiningEpoch, IntervalRecord, Validation,
                                          complete_lines, parse_line, parse_record)

__all__ = ["SCHEMA", "METRICS_FILE", "EpochRecord", "HardMiningEpoch", "IntervalRecord",
           "TrainMetrics", "Validation", "metrics_path", "read_train_metrics"]


@dataclass(frozen=True)
class TrainMetrics:
    """One run's metrics: its start records, and interval and epoch records in order (the last
    record of each step / epoch kept)."""

    path: Path
    starts: tuple[dict[str, Any], ...]
    intervals: tuple[IntervalRecord, ...]
    epochs: tuple[EpochRecord, ...]

    @property
    def recipe(self) -> str:
        """The recipe of the last start (e.g. ``hm-arcface``)."""
        return self.starts[-1]["recipe"]

    @property
    def label(self) -> str:
        """The model's label of the last start (``fverify.train.loop.model_label``), else
        (files of older fverify versions) its recipe."""
        return self.starts[-1].get("label") or self.recipe

    @property
    def hard_mining_active(self) -> bool:
        """Whether HM was in the loss in the last epoch logged (False with no epochs)."""
        return bool(self.epochs) and self.epochs[-1].hard_mining.active


def metrics_path(run: str | os.PathLike[str]) -> Path:
    """``RUN/metrics.jsonl`` for a run folder, or the file itself."""
    path = Path(run)
    if path.is_dir():
        path = path / METRICS_FILE
    if not path.is_file():
        raise FverifyError(f"no {METRICS_FILE} here", where=str(path),
                           fix="give a folder written by `fverify train --out RUN` or its "
                           f"{METRICS_FILE}")
    return path


def read_train_metrics(path: str | os.PathLike[str]) -> TrainMetrics:
    """Read and check ``metrics.jsonl`` (or a run folder holding one).

    Refused, naming ``file:line``: a line that is not a JSON object, another schema, an unknown
    kind, a record before the first start, a missing or mistyped field, a fraction outside
    [0, 1], a histogram whose counts do not add up. A file without records is refused too.
    """
    path = metrics_path(path)
    starts: list[dict[str, Any]] = []
    intervals: dict[int, IntervalRecord] = {}
    epochs: dict[int, EpochRecord] = {}
    for number, text in enumerate(complete_lines(path.read_text("utf-8")), start=1):
        if not text.strip():
            continue
        where = at(path, number)
        record = parse_line(text, where)
        kind = record["kind"]
        if kind != "start" and not starts:
            raise FverifyError(f"{kind!r} record before any 'start' record", where=where,
                               fix=FIX_FILE)
        parsed = parse_record(record, where)
        if isinstance(parsed, IntervalRecord):
            intervals.pop(parsed.step, None)  # re-inserted last: the later one wins
            intervals[parsed.step] = parsed
        elif isinstance(parsed, EpochRecord):
            epochs.pop(parsed.epoch, None)
            epochs[parsed.epoch] = parsed
        else:
            starts.append(parsed)
    if not starts:
        raise FverifyError("no records in this file", where=str(path),
                           fix="wait until the trainer has started, or give another run")
    return TrainMetrics(path=path, starts=tuple(starts),
                        intervals=tuple(sorted(intervals.values(), key=lambda r: r.step)),
                        epochs=tuple(sorted(epochs.values(), key=lambda r: r.epoch)))
