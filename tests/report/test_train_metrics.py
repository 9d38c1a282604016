import json

import pytest

from fverify.errors import FverifyError
from fverify.report.train_metrics import read_train_metrics
from fverify.train.metrics_log import read_metrics
from tests.report.metrics_file import epoch, example_run, interval, start, write


def test_reads_back_what_the_trainer_wrote(tmp_path):
    path = example_run(tmp_path / "run", "hm-arcface", epochs=3, steps_per_epoch=10, active=True)
    written = [json.loads(line) for line in path.read_text().splitlines()]
    metrics = read_train_metrics(tmp_path / "run")  # the folder or the file
    assert metrics.path == path and metrics.recipe == "hm-arcface" and metrics.hard_mining_active
    intervals = [r for r in written if r["kind"] == "interval"]
    assert [r.step for r in metrics.intervals] == [r["step"] for r in intervals] == [5, 10, 15, 20, 25, 30]
    assert [r.loss for r in metrics.intervals] == [r["loss"] for r in intervals]
    assert [r.base_loss for r in metrics.intervals] == [r["base_loss"] for r in intervals]
    epochs = [r for r in written if r["kind"] == "epoch"]
    assert [e.validation.accuracy for e in metrics.epochs] == [e["validation"]["accuracy"] for e in epochs]
    last = metrics.epochs[-1].hard_mining
    assert last.p_y_histogram.tolist() == epochs[-1]["hard_mining"]["p_y_histogram"]
    assert last.bins[0] == 0.0 and last.bins[-1] == 1.0 and len(last.bins) == 21
    assert last.weight_quantiles["0.75"] == 1.5


def test_a_resumed_run_keeps_the_last_record_of_each_step_and_epoch(tmp_path):
    histogram = [0] * 19 + [10]
    path = write(tmp_path / "metrics.jsonl", [
        start(), interval(10, 1, 5.0), interval(20, 1, 4.0), epoch(1, 20, histogram, accuracy=0.6),
        interval(30, 2, 3.0),
        start(resumed_from="checkpoints/step20.pt"),
        interval(30, 2, 2.5), interval(40, 2, 2.0), epoch(2, 40, histogram, accuracy=0.7),
        epoch(1, 20, histogram, accuracy=0.65),  # a re-logged epoch 1 supersedes the first
    ])
    metrics = read_train_metrics(path)
    assert len(metrics.starts) == 2 and metrics.starts[1]["resumed_from"] == "checkpoints/step20.pt"
    assert [(r.step, r.loss) for r in metrics.intervals] == [(10, 5.0), (20, 4.0), (30, 2.5), (40, 2.0)]
    assert [(e.epoch, e.validation.accuracy) for e in metrics.epochs] == [(1, 0.65), (2, 0.7)]


def test_numbers_are_finite_and_null_only_where_the_schema_allows(tmp_path):
    # strict JSON: the trainer stops on a non-finite loss before logging it
    path = write(tmp_path / "metrics.jsonl", [start(), interval(10, 1, float("nan"))])
    with pytest.raises(FverifyError, match=r"metrics.jsonl:2: interval field 'loss' is nan; expected a finite number or null"):
        read_train_metrics(path)
    write(path, [start(), interval(10, 1, None)])  # no image of the interval decoded
    assert read_train_metrics(path).intervals[0].loss is None
    record = epoch(1, 10, HISTOGRAM)
    record["hard_mining"]["hard_fraction"] = None  # 20 samples: there is a hard fraction
    write(path, [start(), record])
    with pytest.raises(FverifyError, match="field 'hard_fraction' is None; expected a fraction in"):
        read_train_metrics(path)


def broken(record, **changes):
    record = dict(record)
    for key, value in changes.items():
        if value is ...:
            del record[key]
        else:
            record[key] = value
    return record


HISTOGRAM = [1] * 20


@pytest.mark.parametrize("bad_line, message", [
    ('{"schema": "fverify.train-metrics/2", "kind": "start"}', "schema 'fverify.train-metrics/2', not 'fverify.train-metrics/1'"),
    ('{"schema": "fverify.run/1"}', "schema 'fverify.run/1'"),
    ("{not json", "not a JSON object"),
    ("[1, 2]", "not a JSON object"),
    (json.dumps(broken(interval(10, 1, 1.0), kind="step")), "unknown record kind 'step'"),
    (json.dumps(broken(interval(10, 1, 1.0), loss=...)), "interval record has no field 'loss'"),
    (json.dumps(broken(interval(10, 1, 1.0), step=0)), "field 'step' is 0; expected a whole number >= 1"),
    (json.dumps(broken(interval(10, 1, 1.0), loss="low")), "field 'loss' is 'low'; expected a finite number or null"),
    (json.dumps(broken(interval(10, 1, 1.0), data_wait_fraction=1.5)), "expected a fraction in [0, 1]"),
    (json.dumps(broken(interval(10, 1, 1.0), epoch_fraction=0.0)), "expected a fraction in (0, 1]"),
    (json.dumps(epoch(1, 10, HISTOGRAM, accuracy=98.5)), "epoch.validation field 'accuracy' is 98.5"),
    (json.dumps(broken(epoch(1, 10, HISTOGRAM), hard_mining=None)), "field 'hard_mining' is None"),
])
def test_malformed_lines_are_refused_with_file_and_line(tmp_path, bad_line, message):
    path = tmp_path / "metrics.jsonl"
    path.write_text(json.dumps(start()) + "\n\n" + bad_line + "\n")
    with pytest.raises(FverifyError) as error:
        read_train_metrics(path)
    assert f"{path}:3: " in str(error.value) and message in str(error.value)


def test_a_last_line_torn_by_a_kill_is_passed_over_and_a_complete_bad_one_is_not(tmp_path):
    # A run killed (and not resumed) while appending, or a live run read mid-write.
    path = tmp_path / "metrics.jsonl"
    whole = json.dumps(interval(20, 1, 1.0))
    path.write_text(json.dumps(start()) + "\n" + json.dumps(interval(10, 1, 0.5)) + "\n" + whole[:25])
    assert [r.step for r in read_train_metrics(path).intervals] == [10]
    assert [r["kind"] for r in read_metrics(path)] == ["start", "interval"]
    path.write_text(json.dumps(start()) + "\n" + whole[:25] + "\n")
    with pytest.raises(FverifyError, match=r"metrics.jsonl:2: "):
        read_train_metrics(path)


def test_inconsistent_histograms_are_refused(tmp_path):
    record = epoch(1, 10, HISTOGRAM)
    record["hard_mining"]["num_samples"] = 21
    path = write(tmp_path / "metrics.jsonl", [start(), record])
    with pytest.raises(FverifyError, match=r"metrics.jsonl:2: epoch.hard_mining: the p_y histogram counts 20 samples"):
        read_train_metrics(path)
    record["hard_mining"].update(num_samples=20, bins=[0.0, 0.5, 1.0])
    write(path, [start(), record])
    with pytest.raises(FverifyError, match="20 histogram counts need 21 increasing bin edges"):
        read_train_metrics(path)


def test_records_before_a_start_or_no_records_are_refused(tmp_path):
    path = write(tmp_path / "metrics.jsonl", [interval(10, 1, 1.0)])
    with pytest.raises(FverifyError, match=r"metrics.jsonl:1: 'interval' record before any 'start'"):
        read_train_metrics(path)
    path.write_text("\n")
    with pytest.raises(FverifyError, match="no records in this file"):
        read_train_metrics(path)
    with pytest.raises(FverifyError, match="no metrics.jsonl here"):
        read_train_metrics(tmp_path / "missing-run")
