"""``RUN/metrics.jsonl``: one JSON object a line, schema ``fverify.train-metrics/1`` (README).

The file is rewritten whole and atomically at each record (``fverify.atomic``), so a kill
leaves the previous version, never a torn line. A resumed run reads the lines back and
appends; readers keep the last record of each step or epoch.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fverify.atomic import atomic_open
from fverify.errors import FverifyError, at

SCHEMA = "fverify.train-metrics/1"
KINDS = ("start", "interval", "epoch")


class MetricsLog:
    """The metrics file of one run (written by rank 0 only)."""

    def __init__(self, path: str | Path, *, resume: bool = False):
        self.path = Path(path)
        self.lines: list[str] = []
        if resume and self.path.exists():
            self.lines = [line for line in self.path.read_text("utf-8").splitlines() if line]

    def write(self, kind: str, **fields: Any) -> dict[str, Any]:
        if kind not in KINDS:
            raise ValueError(f"unknown metrics record kind {kind!r}")
        record = {"schema": SCHEMA, "kind": kind, **fields}
        self.lines.append(json.dumps(record, allow_nan=False))
        with atomic_open(self.path, "w", encoding="utf-8") as handle:
            handle.write("\n".join(self.lines) + "\n")
        return record


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """Every record of a metrics file, checked for the schema (later records win for the same
    step or epoch: that is the reader's choice, the file keeps all)."""
    records = []
    for number, line in enumerate(Path(path).read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise FverifyError(f"not JSON: {error}", where=at(path, number),
                               fix="the file is written whole by fverify train; re-run") from None
        if record.get("schema") != SCHEMA or record.get("kind") not in KINDS:
            raise FverifyError(f"not a {SCHEMA} record", where=at(path, number))
        records.append(record)
    return records
