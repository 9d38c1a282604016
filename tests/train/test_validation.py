import json

import pytest

from fverify.errors import FverifyError
from fverify.train.checkpoint import list_checkpoints
from fverify.train.config import load_config
from fverify.train.loop import train
from fverify.train.metrics_log import read_metrics
from tests.train.faces import TinyFaces, tiny_overrides


def config(synth_lfw, **extra):
    return load_config("tiny", tiny_overrides(**{
        "model.input_size": "[112, 112]", "validation.protocol": "lfw",
        "validation.data": f'"{synth_lfw}"', "validation.pairs": f'"{synth_lfw / "pairs.txt"}"', **extra}))


def test_each_epoch_is_verified_by_the_run_path(tmp_path, synth_lfw):
    run = tmp_path / "run"
    train(config(synth_lfw, **{"optim.epochs": 1}), run, dataset=TinyFaces(size=(112, 112), per_class=4), report=lambda line: None)
    epochs = [r for r in read_metrics(run / "metrics.jsonl") if r["kind"] == "epoch"]
    assert len(epochs) == 1
    for number, record in enumerate(epochs, start=1):
        validation = record["validation"]
        result = json.loads((run / "validation" / f"epoch-{number:03d}" / "result.json").read_text())
        assert validation["result"] == str(run / "validation" / f"epoch-{number:03d}" / "result.json")
        assert validation["protocol"] == result["protocol"]["name"] and validation["num_pairs"] == 30
        assert validation["accuracy"] == result["metrics"]["accuracy"]["mean"]
        assert (validation["se"], validation["auc"], validation["eer"]) == (
            result["metrics"]["accuracy"]["se"], result["metrics"]["auc"], result["metrics"]["eer"])
        assert result["model"]["training"]["recipe"] == "tiny"


def test_a_broken_validation_set_fails_before_training(tmp_path, synth_lfw):
    with pytest.raises(FverifyError):
        train(config(synth_lfw, **{"validation.data": f'"{tmp_path / "absent"}"'}), tmp_path / "run",
              dataset=TinyFaces(size=(112, 112), per_class=4), report=lambda line: None)
    assert list_checkpoints(tmp_path / "run") == []
