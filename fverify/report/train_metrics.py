"""Read a training run's ``metrics.jsonl`` (written by ``fverify train``), checked line by line.

The schema ``fverify.train-metrics/1`` is the trainer's (see ``fverify train`` in the README):
one JSON object a line with ``"schema"`` and ``"kind"``: ``start``, ``interval`` or ``epoch``.
A resumed run appends a new start line; a later record for the same step (interval) or epoch
supersedes an earlier one. Every problem is an :class:`FverifyError` naming ``file:line``.
No torch: ``fverify report`` reads these files too.
"""
from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fverify.errors import FverifyError, at

SCHEMA = "fverify.train-metrics/1"
METRICS_FILE = "metrics.jsonl"


@dataclass(frozen=True)
class IntervalRecord:
    """Means over the optimizer steps since the previous interval record."""

    step: int
    epoch: int
    epoch_fraction: float
    lr: float
    loss: float
    """Mean optimised loss (the HM loss when HM is on)."""
    base_loss: float
    """Mean loss of the head alone."""
    img_per_s: float
    data_wait_fraction: float


@dataclass(frozen=True)
class Validation:
    protocol: str
    accuracy: float
    """Mean over folds, a fraction."""
    se: float
    std: float
    auc: float
    eer: float
    num_pairs: int


@dataclass(frozen=True)
class HardMiningEpoch:
    """What HM did (``active``) or would have done, over one epoch's samples."""

    active: bool
    form: str
    reduction: str
    alpha: float
    beta: float
    A: float
    B: float
    bins: np.ndarray
    """``(k + 1,)`` edges of the p_y histogram, increasing."""
    p_y_histogram: np.ndarray
    """``(k,)`` int64 counts of samples per p_y bin."""
    num_samples: int
    hard_fraction: float
    """Share of samples with p_y < 0.5."""
    weight_mean: float
    weight_quantiles: dict[str, float]
    base_loss_easy_mean: float | None
    base_loss_hard_mean: float | None


@dataclass(frozen=True)
class EpochRecord:
    epoch: int
    step: int
    lr: float
    loss: float
    base_loss: float
    seconds: float
    decode_failures: int
    validation: Validation | None
    hard_mining: HardMiningEpoch


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
    with path.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            where = at(path, number)
            record = _parse_line(text, where)
            kind = record["kind"]
            if kind != "start" and not starts:
                raise FverifyError(f"{kind!r} record before any 'start' record", where=where,
                                   fix=_FIX_FILE)
            fields = _Fields(record, where, kind)
            if kind == "start":
                starts.append(_start(fields))
            elif kind == "interval":
                interval = _interval(fields)
                intervals.pop(interval.step, None)  # re-inserted last: the later one wins
                intervals[interval.step] = interval
            else:
                epoch = _epoch(fields)
                epochs.pop(epoch.epoch, None)
                epochs[epoch.epoch] = epoch
    if not starts:
        raise FverifyError("no records in this file", where=str(path),
                           fix="wait until the trainer has started, or give another run")
    return TrainMetrics(path=path, starts=tuple(starts),
                        intervals=tuple(sorted(intervals.values(), key=lambda r: r.step)),
                        epochs=tuple(sorted(epochs.values(), key=lambda r: r.epoch)))


_FIX_FILE = (f"metrics.jsonl is written by `fverify train` ({SCHEMA}); give that file, or the "
             "run folder, unchanged")
KINDS = ("start", "interval", "epoch")


def _parse_line(text: str, where: str) -> dict[str, Any]:
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        raise FverifyError(f"not a JSON object: {error.msg} at column {error.colno}", where=where,
                           fix=_FIX_FILE) from None
    if not isinstance(record, dict):
        raise FverifyError("not a JSON object", where=where, fix=_FIX_FILE)
    if record.get("schema") != SCHEMA:
        raise FverifyError(f"schema {record.get('schema')!r}, not {SCHEMA!r}", where=where,
                           fix="give the metrics.jsonl of an fverify training run (this "
                           "fverify reads only that schema)")
    if record.get("kind") not in KINDS:
        raise FverifyError(f"unknown record kind {record.get('kind')!r}; expected one of "
                           f"{', '.join(KINDS)}", where=where, fix=_FIX_FILE)
    return record


class _Fields:
    """Typed access to one record's fields; a missing or mistyped one raises with file:line."""

    def __init__(self, record: dict[str, Any], where: str, what: str):
        self.record, self.where, self.what = record, where, what

    def _get(self, name: str, check: Callable[[Any], bool], expected: str, nullable: bool) -> Any:
        if name not in self.record:
            raise FverifyError(f"{self.what} record has no field {name!r}", where=self.where,
                               fix=_FIX_FILE)
        value = self.record[name]
        if (value is None and nullable) or (value is not None and check(value)):
            return value
        raise FverifyError(f"{self.what} field {name!r} is {value!r}; expected {expected}",
                           where=self.where, fix=_FIX_FILE)

    def integer(self, name: str, minimum: int = 0) -> int:
        return self._get(name, lambda v: _is_int(v) and v >= minimum,
                         f"a whole number >= {minimum}", False)

    def number(self, name: str, nullable: bool = False) -> float | None:
        # Not necessarily finite: a diverged run logs NaN or inf losses (JSON as Python writes it).
        value = self._get(name, _is_number, "a number", nullable)
        return None if value is None else float(value)

    def fraction(self, name: str, low_open: bool = False) -> float:
        interval = "(0, 1]" if low_open else "[0, 1]"
        return float(self._get(
            name, lambda v: _is_number(v) and (0 < v if low_open else 0 <= v) and v <= 1,
            f"a fraction in {interval}", False))

    def text(self, name: str, nullable: bool = False) -> str | None:
        return self._get(name, lambda v: isinstance(v, str), "a string", nullable)

    def boolean(self, name: str) -> bool:
        return self._get(name, lambda v: isinstance(v, bool), "true or false", False)

    def mapping(self, name: str, nullable: bool = False) -> dict[str, Any] | None:
        return self._get(name, lambda v: isinstance(v, dict), "an object", nullable)

    def numbers(self, name: str, check: Callable[[Any], bool], expected: str) -> list[Any]:
        return self._get(name, lambda v: isinstance(v, list) and len(v) >= 1
                         and all(check(x) for x in v), expected, False)

    def nested(self, name: str, nullable: bool = False) -> _Fields | None:
        value = self.mapping(name, nullable)
        return None if value is None else _Fields(value, self.where, f"{self.what}.{name}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _start(fields: _Fields) -> dict[str, Any]:
    fields.text("recipe")
    fields.mapping("config")
    fields.text("fverify_version")
    fields.integer("world_size", 1)
    fields.text("resumed_from", nullable=True)
    fields.integer("num_classes", 1)
    fields.integer("num_images", 0)
    fields.text("time")
    return dict(fields.record)


def _interval(fields: _Fields) -> IntervalRecord:
    return IntervalRecord(
        step=fields.integer("step", 1), epoch=fields.integer("epoch", 1),
        epoch_fraction=fields.fraction("epoch_fraction", low_open=True), lr=fields.number("lr"),
        loss=fields.number("loss"), base_loss=fields.number("base_loss"),
        img_per_s=fields.number("img_per_s"),
        data_wait_fraction=fields.fraction("data_wait_fraction"),
    )


def _epoch(fields: _Fields) -> EpochRecord:
    validation = fields.nested("validation", nullable=True)
    return EpochRecord(
        epoch=fields.integer("epoch", 1), step=fields.integer("step", 0), lr=fields.number("lr"),
        loss=fields.number("loss"), base_loss=fields.number("base_loss"),
        seconds=fields.number("seconds"), decode_failures=fields.integer("decode_failures"),
        validation=None if validation is None else Validation(
            protocol=validation.text("protocol"), accuracy=validation.fraction("accuracy"),
            se=validation.number("se"), std=validation.number("std"),
            auc=validation.fraction("auc"), eer=validation.fraction("eer"),
            num_pairs=validation.integer("num_pairs", 1)),
        hard_mining=_hard_mining(fields.nested("hard_mining")),
    )


def _hard_mining(fields: _Fields) -> HardMiningEpoch:
    bins = np.array(fields.numbers("bins", lambda v: _is_number(v) and math.isfinite(v),
                                   "a list of finite numbers"), dtype=np.float64)
    counts = np.array(fields.numbers("p_y_histogram", lambda v: _is_int(v) and v >= 0,
                                     "a list of counts"), dtype=np.int64)
    num_samples = fields.integer("num_samples")
    if len(bins) != len(counts) + 1 or np.any(np.diff(bins) <= 0):
        raise FverifyError(f"{fields.what}: {len(counts)} histogram counts need {len(counts) + 1} "
                           f"increasing bin edges, got {bins.tolist()}", where=fields.where,
                           fix=_FIX_FILE)
    if int(counts.sum()) != num_samples:
        raise FverifyError(f"{fields.what}: the p_y histogram counts {int(counts.sum())} samples, "
                           f"num_samples says {num_samples}", where=fields.where, fix=_FIX_FILE)
    quantiles = fields.mapping("weight_quantiles")
    if not all(_is_number(v) for v in quantiles.values()):
        raise FverifyError(f"{fields.what}: weight_quantiles must map quantile names to numbers",
                           where=fields.where, fix=_FIX_FILE)
    return HardMiningEpoch(
        active=fields.boolean("active"), form=fields.text("form"),
        reduction=fields.text("reduction"), alpha=fields.number("alpha"),
        beta=fields.number("beta"), A=fields.number("A"), B=fields.number("B"),
        bins=bins, p_y_histogram=counts, num_samples=num_samples,
        hard_fraction=fields.fraction("hard_fraction"), weight_mean=fields.number("weight_mean"),
        weight_quantiles={str(k): float(v) for k, v in quantiles.items()},
        base_loss_easy_mean=fields.number("base_loss_easy_mean", nullable=True),
        base_loss_hard_mean=fields.number("base_loss_hard_mean", nullable=True),
    )
