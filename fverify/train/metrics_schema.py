"""The schema of ``RUN/metrics.jsonl``, ``fverify.train-metrics/1``: declared once here, for the
trainer that writes it (:mod:`fverify.train.metrics_log` checks every record before writing)
and for the readers (``fverify plot training``, ``fverify report``). No torch.

One JSON object a line with ``"schema"`` and ``"kind"``: ``start``, ``interval`` or ``epoch``.
Every number is finite (strict JSON: the trainer stops on a non-finite loss before logging it).
A value that does not exist is ``null``, only where the README's table says so: a loss when
the interval or epoch had no sample that decoded, ``se`` and ``std`` when validation tested a
single fold (LFW View 1), the HM statistics of an epoch without samples, and the easy / hard
mean when there was no easy / hard sample. Every problem is an :class:`FverifyError` naming
``file:line``; a torn last line (a kill while it was written) is not a record, and readers
pass over it.
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from fverify.errors import FverifyError

SCHEMA = "fverify.train-metrics/1"
KINDS = ("start", "interval", "epoch")
METRICS_FILE = "metrics.jsonl"
FIX_FILE = (f"metrics.jsonl is written by `fverify train` ({SCHEMA}); give that file, or the "
            "run folder, unchanged")


@dataclass(frozen=True)
class IntervalRecord:
    """Means over the optimizer steps since the previous interval record."""

    step: int
    epoch: int
    epoch_fraction: float
    lr: float
    loss: float | None
    """Mean optimised loss (the HM loss when HM is on); None: no sample decoded."""
    base_loss: float | None
    """Mean loss of the head alone; None: no sample decoded."""
    img_per_s: float
    data_wait_fraction: float


@dataclass(frozen=True)
class Validation:
    protocol: str
    accuracy: float
    """Mean over folds, a fraction."""
    se: float | None
    """Standard error over folds; None when a single fold was tested."""
    std: float | None
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
    hard_fraction: float | None
    """Share of samples with p_y < 0.5; None without samples."""
    weight_mean: float | None
    weight_quantiles: dict[str, float | None]
    base_loss_easy_mean: float | None
    base_loss_hard_mean: float | None


@dataclass(frozen=True)
class EpochRecord:
    epoch: int
    step: int
    lr: float
    loss: float | None
    base_loss: float | None
    seconds: float
    decode_failures: int
    validation: Validation | None
    hard_mining: HardMiningEpoch


Record = dict[str, Any] | IntervalRecord | EpochRecord


def complete_lines(text: str) -> list[str]:
    """The file's lines less a last one without its newline: the trainer writes each record
    with its newline in one append, so such a line is one a kill tore (or one still being
    written while a report reads a live run), never a record."""
    lines = text.splitlines()
    if lines and not text.endswith("\n"):
        lines.pop()
    return lines


def parse_line(text: str, where: str) -> dict[str, Any]:
    """One line's JSON object, checked to be a record of this schema (fields not yet checked)."""
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        raise FverifyError(f"not a JSON object: {error.msg} at column {error.colno}", where=where,
                           fix=FIX_FILE) from None
    if not isinstance(record, dict):
        raise FverifyError("not a JSON object", where=where, fix=FIX_FILE)
    if record.get("schema") != SCHEMA:
        raise FverifyError(f"schema {record.get('schema')!r}, not {SCHEMA!r}", where=where,
                           fix="give the metrics.jsonl of an fverify training run (this "
                           "fverify reads only that schema)")
    if record.get("kind") not in KINDS:
        raise FverifyError(f"unknown record kind {record.get('kind')!r}; expected one of "
                           f"{', '.join(KINDS)}", where=where, fix=FIX_FILE)
    return record


def parse_record(record: dict[str, Any], where: str) -> Record:
    """Check every field of a record (from :func:`parse_line`): the start record as the dict
    it is, an interval or epoch record typed."""
    fields = _Fields(record, where, record["kind"])
    return {"start": _start, "interval": _interval, "epoch": _epoch}[record["kind"]](fields)


class _Fields:
    """Typed access to one record's fields; a missing or mistyped one raises with file:line."""

    def __init__(self, record: dict[str, Any], where: str, what: str):
        self.record, self.where, self.what = record, where, what

    def _get(self, name: str, check: Callable[[Any], bool], expected: str, nullable: bool) -> Any:
        if name not in self.record:
            raise FverifyError(f"{self.what} record has no field {name!r}", where=self.where,
                               fix=FIX_FILE)
        value = self.record[name]
        if (value is None and nullable) or (value is not None and check(value)):
            return value
        raise FverifyError(f"{self.what} field {name!r} is {value!r}; expected {expected}"
                           + (" or null" if nullable else ""), where=self.where, fix=FIX_FILE)

    def integer(self, name: str, minimum: int = 0) -> int:
        return self._get(name, lambda v: _is_int(v) and v >= minimum,
                         f"a whole number >= {minimum}", False)

    def number(self, name: str, nullable: bool = False) -> float | None:
        value = self._get(name, _is_number, "a finite number", nullable)
        return None if value is None else float(value)

    def fraction(self, name: str, low_open: bool = False, nullable: bool = False) -> float | None:
        interval = "(0, 1]" if low_open else "[0, 1]"
        value = self._get(name, lambda v: _is_number(v) and (0 < v if low_open else 0 <= v) and v <= 1,
                          f"a fraction in {interval}", nullable)
        return None if value is None else float(value)

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
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _start(fields: _Fields) -> dict[str, Any]:
    fields.text("recipe")
    fields.mapping("config")
    fields.text("fverify_version")
    fields.integer("world_size", 1)
    fields.text("resumed_from", nullable=True)
    fields.integer("num_classes", 1)
    fields.integer("num_images", 0)
    fields.text("time")
    # absent from the files of older fverify versions
    if "label" in fields.record:
        fields.text("label")
    if "images_checked" in fields.record:
        fields.mapping("images_checked", nullable=True)
    return dict(fields.record)


def _interval(fields: _Fields) -> IntervalRecord:
    return IntervalRecord(
        step=fields.integer("step", 1), epoch=fields.integer("epoch", 1),
        epoch_fraction=fields.fraction("epoch_fraction", low_open=True), lr=fields.number("lr"),
        loss=fields.number("loss", nullable=True), base_loss=fields.number("base_loss", nullable=True),
        img_per_s=fields.number("img_per_s"),
        data_wait_fraction=fields.fraction("data_wait_fraction"),
    )


def _epoch(fields: _Fields) -> EpochRecord:
    validation = fields.nested("validation", nullable=True)
    return EpochRecord(
        epoch=fields.integer("epoch", 1), step=fields.integer("step", 0), lr=fields.number("lr"),
        loss=fields.number("loss", nullable=True), base_loss=fields.number("base_loss", nullable=True),
        seconds=fields.number("seconds"), decode_failures=fields.integer("decode_failures"),
        validation=None if validation is None else Validation(
            protocol=validation.text("protocol"), accuracy=validation.fraction("accuracy"),
            se=validation.number("se", nullable=True), std=validation.number("std", nullable=True),
            auc=validation.fraction("auc"), eer=validation.fraction("eer"),
            num_pairs=validation.integer("num_pairs", 1)),
        hard_mining=_hard_mining(fields.nested("hard_mining")),
    )


def _hard_mining(fields: _Fields) -> HardMiningEpoch:
    bins = np.array(fields.numbers("bins", _is_number, "a list of finite numbers"), dtype=np.float64)
    counts = np.array(fields.numbers("p_y_histogram", lambda v: _is_int(v) and v >= 0,
                                     "a list of counts"), dtype=np.int64)
    num_samples = fields.integer("num_samples")
    if len(bins) != len(counts) + 1 or np.any(np.diff(bins) <= 0):
        raise FverifyError(f"{fields.what}: {len(counts)} histogram counts need {len(counts) + 1} "
                           f"increasing bin edges, got {bins.tolist()}", where=fields.where,
                           fix=FIX_FILE)
    if int(counts.sum()) != num_samples:
        raise FverifyError(f"{fields.what}: the p_y histogram counts {int(counts.sum())} samples, "
                           f"num_samples says {num_samples}", where=fields.where, fix=FIX_FILE)
    # Without samples there is nothing to summarise: those statistics are null, and only then.
    empty = num_samples == 0
    quantiles = fields.mapping("weight_quantiles")
    if not all((v is None) if empty else _is_number(v) for v in quantiles.values()):
        raise FverifyError(f"{fields.what}: weight_quantiles must map quantile names to "
                           + ("null (no samples)" if empty else "finite numbers"),
                           where=fields.where, fix=FIX_FILE)
    hard_fraction = fields.fraction("hard_fraction", nullable=empty)
    weight_mean = fields.number("weight_mean", nullable=empty)
    if empty and (hard_fraction, weight_mean) != (None, None):
        raise FverifyError(f"{fields.what}: hard_fraction and weight_mean of an epoch without "
                           "samples must be null", where=fields.where, fix=FIX_FILE)
    return HardMiningEpoch(
        active=fields.boolean("active"), form=fields.text("form"),
        reduction=fields.text("reduction"), alpha=fields.number("alpha"),
        beta=fields.number("beta"), A=fields.number("A"), B=fields.number("B"),
        bins=bins, p_y_histogram=counts, num_samples=num_samples,
        hard_fraction=hard_fraction, weight_mean=weight_mean,
        weight_quantiles={str(k): (None if v is None else float(v)) for k, v in quantiles.items()},
        base_loss_easy_mean=fields.number("base_loss_easy_mean", nullable=True),
        base_loss_hard_mean=fields.number("base_loss_hard_mean", nullable=True),
    )
