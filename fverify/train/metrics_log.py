"""``RUN/metrics.jsonl``, the trainer's side: records appended one line at a time, each checked
against the schema (:mod:`fverify.train.metrics_schema`) before it is written.

Each record is appended as one line, flushed and fsynced, so a kill loses at most the line
being written, and logging costs the same at step 10 and at step 1,000,000. A resumed run
first :meth:`MetricsLog.rewind`\\ s the file to its checkpoint's step: the records logged after
that checkpoint, which the resumed run logs again, are removed, so the file has no duplicates.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fverify.atomic import atomic_open
from fverify.errors import at
from fverify.train.metrics_schema import SCHEMA, complete_lines, parse_line, parse_record

__all__ = ["SCHEMA", "MetricsLog", "read_metrics"]


class MetricsLog:
    """The metrics file of one run (written by rank 0 only)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def write(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Append one record (checked against the schema: a wrong field is a bug here)."""
        record = {"schema": SCHEMA, "kind": kind, **fields}
        line = json.dumps(record, allow_nan=False)
        where = f"{self.path} (record being written)"
        parse_record(parse_line(line, where), where)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        return record

    def split(self, step: int, *, epoch_pending: int | None = None) -> tuple[list[str], list[str]]:
        """The file's lines as (kept, removed) by :meth:`rewind`, without changing the file."""
        if not self.path.exists():
            return [], []
        lines = complete_lines(self.path.read_text("utf-8"))
        cut = len(lines)
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            record = parse_line(line, at(self.path, number))
            if record["kind"] != "start" and (record["step"] > step or (
                    record["kind"] == "epoch" and record["epoch"] == epoch_pending)):
                cut = number - 1
                break
        return lines[:cut], [line for line in lines[cut:] if line.strip()]

    def rewind(self, step: int, *, epoch_pending: int | None = None) -> list[str]:
        """Cut the file before its first interval or epoch record past ``step`` (and before the
        record of ``epoch_pending``, an epoch whose record the resumed run writes again), and
        drop a last line torn by a kill. Rewritten atomically; returns the lines removed."""
        kept, removed = self.split(step, epoch_pending=epoch_pending)
        if self.path.exists() and len(kept) < len(self.path.read_text("utf-8").splitlines()):
            with atomic_open(self.path, "w", encoding="utf-8") as handle:
                handle.write("".join(line + "\n" for line in kept))
        return removed


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """Every record of a metrics file as written, each checked against the schema (the
    report's :func:`fverify.report.train_metrics.read_train_metrics` types them)."""
    records = []
    for number, line in enumerate(complete_lines(Path(path).read_text("utf-8")), start=1):
        if line.strip():
            record = parse_line(line, at(path, number))
            parse_record(record, at(path, number))
            records.append(record)
    return records
