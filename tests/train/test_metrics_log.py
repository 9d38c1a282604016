import json
import os

import pytest

from fverify.errors import FverifyError
from fverify.report.train_metrics import read_train_metrics
from fverify.train.metrics_log import SCHEMA, MetricsLog, read_metrics
from fverify.train.tally import Tally
from tests.report.metrics_file import epoch, interval, start


def fields(record):
    return {k: v for k, v in record.items() if k not in ("schema", "kind")}


def test_each_record_is_appended_and_fsynced_not_the_file_rewritten(tmp_path, monkeypatch):
    synced = []
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd))
    path = tmp_path / "metrics.jsonl"
    MetricsLog(path).write("start", **fields(start()))
    MetricsLog(path).write("interval", **fields(interval(1, 1, 0.5)))  # a new writer keeps line 1
    assert [r["kind"] for r in read_metrics(path)] == ["start", "interval"]
    assert len(synced) == 2
    with pytest.raises(ValueError):  # NaN is not JSON: the trainer stops before logging one
        MetricsLog(path).write("interval", **fields(interval(2, 1, float("nan"))))
    with pytest.raises(FverifyError, match="interval record has no field 'lr'"):
        MetricsLog(path).write("interval", **{k: v for k, v in fields(interval(2, 1, 0.5)).items() if k != "lr"})
    assert len(path.read_text().splitlines()) == 2  # nothing of a refused record written


def test_rewind_cuts_records_past_the_checkpoint_and_a_torn_line(tmp_path):
    path = tmp_path / "metrics.jsonl"
    histogram = [0] * 19 + [8]
    lines = [start(), interval(2, 1, 3.0), interval(4, 1, 2.0), epoch(1, 4, histogram),
             interval(6, 2, 1.0), epoch(2, 8, histogram)]
    path.write_text("".join(json.dumps(r) + "\n" for r in lines) + '{"schema": "fverify.tr')
    removed = MetricsLog(path).rewind(4)
    assert [json.loads(line)["step"] for line in removed] == [6, 8]
    assert [(r["kind"], r.get("step")) for r in read_metrics(path)] == [
        ("start", None), ("interval", 2), ("interval", 4), ("epoch", 4)]
    # resumed from the end of epoch 1 before its record was known to be complete: it goes too
    MetricsLog(path).rewind(4, epoch_pending=1)
    assert [r["kind"] for r in read_metrics(path)] == ["start", "interval", "interval"]


def test_the_nulls_the_trainer_writes_are_read_by_the_report(tmp_path):
    # An interval and an epoch in which no image decoded, validated on a single fold (View 1)
    path = tmp_path / "metrics.jsonl"
    log = MetricsLog(path)
    log.write("start", **fields(start()))
    log.write("interval", **{**fields(interval(2, 1, 1.0)), "loss": None, "base_loss": None})
    empty = Tally().hard_mining_record({"form": "eq2", "reduction": "sample", "alpha": 1.5,
                                        "beta": 1.1, "A": 35.0, "B": 0.75}, active=True)
    record = fields(epoch(1, 2, [1] * 20))  # its hard_mining replaced below
    record.update(loss=None, base_loss=None, hard_mining=empty)
    record["validation"].update(se=None, std=None)
    log.write("epoch", **record)
    metrics = read_train_metrics(path)
    assert metrics.intervals[0].loss is None and metrics.epochs[0].validation.se is None
    hm = metrics.epochs[0].hard_mining
    assert hm.num_samples == 0 and hm.hard_fraction is None and hm.weight_mean is None
    assert set(hm.weight_quantiles.values()) == {None}


def test_a_foreign_line_is_named(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text(json.dumps(start()) + "\n{\"kind\": \"epoch\"}\n")
    with pytest.raises(FverifyError, match=r"metrics.jsonl:2: schema None, not 'fverify.train-metrics/1'"):
        read_metrics(path)
    assert SCHEMA == "fverify.train-metrics/1"
