"""``fverify lfw|ytf|bin --model``: the whole run on synthetic data in the real layouts."""
import csv
import json
import os
import shutil

import cv2
import numpy as np
import pytest
import torch

from fverify.cli import main
from fverify.models.checkpoint import save_checkpoint
from fverify.models.preprocessing import Preprocessing
from fverify.models.registry import backbone_spec

PIXELS = '''
import numpy as np

def embed(faces):
    """Raw pixels on a coarse grid, centred: a weak but honest face descriptor."""
    small = faces[:, ::8, ::8, :].reshape(len(faces), -1).astype(np.float32)
    return small - small.mean(axis=1, keepdims=True)

def noise(faces):
    """An embedding that ignores the face: a fixed random vector per image content."""
    seeds = [int(f.sum()) for f in faces]
    return np.stack([np.random.default_rng(s).normal(size=16) for s in seeds]).astype(np.float32)
'''

RUN_FLAGS = ["--no-progress", "--workers", "0", "--batch-size", "16"]


@pytest.fixture(scope="module")
def user_models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    (folder / "pixels.py").write_text(PIXELS)
    torch.manual_seed(0)
    backbone = backbone_spec("mobilefacenet").build().eval()
    checkpoint = folder / "mbf.pt"
    save_checkpoint(checkpoint, backbone, "mobilefacenet", Preprocessing(), embedding_dim=512)
    return folder


def lfw_args(synth_lfw, out):
    return ["lfw", "--data", str(synth_lfw), "--pairs", str(synth_lfw / "pairs.txt"), "--out", str(out)]


def test_lfw_with_a_checkpoint_writes_result_scores_and_roc(synth_lfw, user_models, tmp_path, capsys):
    out = tmp_path / "run"
    code = main([*lfw_args(synth_lfw, out), "--model", str(user_models / "mbf.pt"),
                 "--cache-dir", str(tmp_path / "cache"), "--json", str(tmp_path / "copy.json"), *RUN_FLAGS])
    assert code == 0
    printed = capsys.readouterr().out
    assert "accuracy" in printed and "± is the standard error" in printed and "insightface" in printed
    result = json.loads((out / "result.json").read_text())
    assert result == json.loads((tmp_path / "copy.json").read_text())
    assert result["schema"] == "fverify.run/1"
    assert result["protocol"]["name"] == "lfw" and len(result["protocol"]["md5"]) == 32
    assert result["model"]["sha256"] and result["model"]["path"].endswith("mbf.pt")
    assert result["embedding"]["flip"] == "sum" and result["embedding"]["arch"] == "mobilefacenet"
    assert result["embedding"]["dtype"] == "float32" and result["embedding"]["from_cache"] is False
    assert result["preprocessing"]["color"] == "RGB"
    assert result["threshold_method"] == "exact"
    assert result["protocol"]["folds"] == "one fold per header block (pairs.txt: 3 blocks of 10 pairs)"
    metrics = result["metrics"]
    assert len(metrics["accuracy"]["folds"]) == 3 and 0 <= metrics["auc"] <= 1
    with open(out / "scores.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 30 and list(rows[0]) == ["pair_id", "fold", "label", "score", "item1", "item2"]
    assert rows[0]["item1"].endswith(".jpg")
    assert (out / "roc.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # The scores file alone reproduces the run's numbers through `fverify evaluate`.
    assert main(["evaluate", str(out / "scores.csv"), "--json", str(tmp_path / "again.json")]) == 0
    again = json.loads((tmp_path / "again.json").read_text())["metrics"]
    assert again["accuracy"] == metrics["accuracy"] and again["auc"] == metrics["auc"]

    # Second run of the same evaluation: embeddings come from the cache, numbers identical.
    capsys.readouterr()
    assert main([*lfw_args(synth_lfw, tmp_path / "run2"), "--model", str(user_models / "mbf.pt"),
                 "--cache-dir", str(tmp_path / "cache"), *RUN_FLAGS]) == 0
    assert "from the cache" in capsys.readouterr().out
    second = json.loads((tmp_path / "run2" / "result.json").read_text())
    assert second["embedding"]["from_cache"] is True and second["metrics"] == metrics


def test_grid_threshold_and_flip_are_recorded(synth_lfw, user_models, tmp_path):
    out = tmp_path / "run"
    assert main([*lfw_args(synth_lfw, out), "--model", f"{user_models / 'pixels.py'}:embed",
                 "--threshold", "grid", "--flip", "concat", *RUN_FLAGS]) == 0
    result = json.loads((out / "result.json").read_text())
    assert result["threshold_method"] == "grid" and result["embedding"]["flip"] == "concat"
    assert result["embedding"]["embedding_dim"] == 2 * 14 * 14 * 3


def test_ytf_aggregation_setting_is_recorded(synth_ytf, user_models, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["ytf", "--data", str(synth_ytf), "--splits", str(synth_ytf / "splits.txt"),
                 "--aggregation", "first_k", "--k", "2", "--model", f"{user_models / 'pixels.py'}:embed",
                 "--out", str(out), *RUN_FLAGS])
    assert code == 0
    result = json.loads((out / "result.json").read_text())
    assert result["protocol"]["name"] == "ytf"
    assert result["embedding"]["aggregation"] == "first_k" and result["embedding"]["k"] == 2
    assert result["metrics"]["num_pairs"] == 12 and len(result["metrics"]["accuracy"]["folds"]) == 2


def test_a_model_that_ignores_the_face_gets_the_chance_warning(synth_lfw, user_models, tmp_path, capsys):
    out = tmp_path / "run"
    assert main([*lfw_args(synth_lfw, out), "--model", f"{user_models / 'pixels.py'}:noise", *RUN_FLAGS]) == 0
    err = capsys.readouterr().err
    assert "what a model that ignores its input gets" in err and "colour order" in err
    result = json.loads((out / "result.json").read_text())
    assert any("ignores its input" in warning for warning in result["warnings"])


def test_bin_run_on_a_packed_set(synth_lfw, user_models, tmp_path):
    packed = tmp_path / "synth.bin"
    assert main(["bin", "pack", "--from", "lfw", "--data", str(synth_lfw),
                 "--pairs", str(synth_lfw / "pairs.txt"), str(packed)]) == 0
    out = tmp_path / "run"
    assert main(["bin", "--bin", str(packed), "--model", f"{user_models / 'pixels.py'}:embed",
                 "--out", str(out), *RUN_FLAGS]) == 0
    result = json.loads((out / "result.json").read_text())
    assert result["metrics"]["num_pairs"] == 30 and result["data_root"]


def test_no_model_and_no_validate_is_a_clear_error(synth_lfw, capsys):
    assert main(["lfw", "--data", str(synth_lfw), "--pairs", str(synth_lfw / "pairs.txt")]) == 2
    assert "a model is needed" in capsys.readouterr().err


def test_a_missing_image_fails_before_the_model_loads(synth_lfw, tmp_path, capsys):
    broken = tmp_path / "lfw"
    shutil.copytree(synth_lfw, broken)
    name, number, _ = (broken / "pairs.txt").read_text().splitlines()[1].split("\t")
    victim = broken / name / f"{name}_{int(number):04d}.jpg"
    victim.unlink()
    assert main(["lfw", "--data", str(broken), "--pairs", str(broken / "pairs.txt"),
                 "--model", str(tmp_path / "does-not-exist.pt")]) == 2
    err = capsys.readouterr().err
    assert "1 of" in err and "images are missing" in err and victim.name in err
    assert "does-not-exist" not in err


def test_default_run_folder_is_named_after_protocol_and_model():
    from fverify.cli.protocol_run import default_run_name

    assert default_run_name("lfw", "ckpts/r18.pt").startswith("lfw-r18-")
    assert default_run_name("ytf", "models/mine.py:embed").startswith("ytf-mine-embed-")
    assert np.char.endswith(default_run_name("lfw", "x.onnx"), "Z")


IMPORT_TRACER = '''
import pathlib

pathlib.Path(__file__).with_suffix(".imported").write_text("the model file was imported")

def embed(faces):
    raise AssertionError("the model ran")
'''


@pytest.mark.parametrize("bad_output", ["out", "json", "cache"])
def test_bad_outputs_are_refused_before_the_model_is_imported(bad_output, synth_lfw, tmp_path, capsys):
    model = tmp_path / "tracer.py"
    model.write_text(IMPORT_TRACER)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "old.txt").write_text("a previous run")
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "a-file").write_text("not a folder")
    out, json_out, cache = tmp_path / "run", tmp_path / "copy.json", tmp_path / "cache"
    out, json_out, cache = {"out": (tmp_path / "full", json_out, cache),
                            "json": (out, tmp_path / "a-folder", cache),
                            "cache": (out, json_out, tmp_path / "a-file")}[bad_output]
    code = main([*lfw_args(synth_lfw, out), "--model", f"{model}:embed", "--json", str(json_out),
                 "--cache-dir", str(cache), *RUN_FLAGS])
    assert code == 2
    err = capsys.readouterr().err
    assert {"out": "not an empty folder", "json": "is a folder", "cache": "is a file"}[bad_output] in err
    assert not model.with_suffix(".imported").exists()
    assert not (tmp_path / "run").exists() and not (tmp_path / "copy.json").exists()


def test_a_frame_name_that_is_not_utf8_runs_with_the_cache(synth_ytf, user_models, tmp_path):
    data = tmp_path / "ytf"
    shutil.copytree(synth_ytf, data)
    frame = next(p for p in sorted(data.rglob("*.jpg")))
    frame.rename(frame.with_name(os.fsdecode(b"\xff" + os.fsencode(frame.name))))  # keeps its number
    args = ["ytf", "--data", str(data), "--splits", str(data / "splits.txt"), "--model",
            str(user_models / "mbf.pt"), "--cache-dir", str(tmp_path / "cache"), *RUN_FLAGS]
    assert main([*args, "--out", str(tmp_path / "run")]) == 0
    assert main([*args, "--out", str(tmp_path / "again")]) == 0
    again = json.loads((tmp_path / "again" / "result.json").read_text())
    assert again["embedding"]["from_cache"] is True


def test_a_data_path_that_is_not_utf8_is_printed(synth_lfw, tmp_path, capsys):
    data = tmp_path / os.fsdecode(b"caf\xe9")  # a Latin-1 folder name under a UTF-8 locale
    shutil.copytree(synth_lfw, data)
    assert main(["lfw", "--data", str(data), "--pairs", str(data / "pairs.txt"), "--validate"]) == 0
    assert "caf\\udce9" in capsys.readouterr().out  # escaped, as Python escapes it on stderr


def test_a_cut_image_is_found_before_the_model_is_imported(synth_lfw, tmp_path, capsys):
    data = tmp_path / "lfw"
    shutil.copytree(synth_lfw, data)
    victim = sorted(data.rglob("*.jpg"))[3]
    victim.write_bytes(victim.read_bytes()[:-100])
    model = tmp_path / "tracer.py"
    model.write_text(IMPORT_TRACER)
    assert main([*lfw_args(data, tmp_path / "run"), "--model", f"{model}:embed", *RUN_FLAGS]) == 2
    err = capsys.readouterr().err
    assert "1 of" in err and "images cannot be used" in err and f"{victim}: truncated JPEG" in err
    assert not model.with_suffix(".imported").exists() and not (tmp_path / "run").exists()
    assert main(["lfw", "--data", str(data), "--pairs", str(data / "pairs.txt"), "--validate"]) == 2


def test_a_wrong_size_image_is_found_before_the_model_runs(synth_lfw, tmp_path, capsys):
    data = tmp_path / "lfw"
    shutil.copytree(synth_lfw, data)
    victim = sorted(data.rglob("*.jpg"))[3]
    ok, encoded = cv2.imencode(".jpg", np.zeros((120, 100, 3), np.uint8))
    victim.write_bytes(encoded.tobytes())
    model = tmp_path / "tracer.py"
    model.write_text(IMPORT_TRACER)  # its embed fails the test if it ever runs
    assert main([*lfw_args(data, tmp_path / "run"), "--model", f"{model}:embed", *RUN_FLAGS]) == 2
    err = capsys.readouterr().err
    assert "1 of" in err and "are not 112x112 pixels" in err and "found: 100x120 (1)" in err and str(victim) in err
    assert not (tmp_path / "run").exists()
    # --validate knows no model; given --input-size it checks that size.
    assert main(["lfw", "--data", str(data), "--pairs", str(data / "pairs.txt"), "--validate"]) == 0
    assert "100x120 (1)" in capsys.readouterr().out
    assert main(["lfw", "--data", str(data), "--pairs", str(data / "pairs.txt"), "--validate",
                 "--input-size", "112"]) == 2
