import json

import pytest

from fverify.errors import FverifyError
from fverify.train.metrics_log import SCHEMA, MetricsLog, read_metrics


def test_records_are_appended_and_a_resumed_log_keeps_the_old_ones(tmp_path):
    path = tmp_path / "metrics.jsonl"
    MetricsLog(path).write("start", recipe="x")
    log = MetricsLog(path, resume=True)
    log.write("interval", step=1, loss=0.5)
    records = read_metrics(path)
    assert [(r["schema"], r["kind"]) for r in records] == [(SCHEMA, "start"), (SCHEMA, "interval")]
    assert records[1]["loss"] == 0.5
    with pytest.raises(ValueError):
        log.write("nan", loss=float("nan"))
    with pytest.raises(ValueError):
        log.write("interval", loss=float("nan"))  # NaN is not JSON


def test_a_foreign_line_is_named(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text(json.dumps({"schema": SCHEMA, "kind": "start"}) + "\n{\"kind\": \"epoch\"}\n")
    with pytest.raises(FverifyError, match=r"metrics.jsonl:2: not a fverify.train-metrics/1 record"):
        read_metrics(path)
