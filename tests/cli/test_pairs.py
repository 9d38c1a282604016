"""``fverify pairs --align`` and ``bin pack --align`` on raw real photos (a pair list written here)."""
import json
import pickle

import pytest
import torch

from fverify.cli import main
from fverify.data.images import decode_image
from fverify.models.checkpoint import save_checkpoint
from fverify.models.preprocessing import Preprocessing
from fverify.models.registry import backbone_spec
from tests.align.conftest import write_raw_folder

pytest.importorskip("lz4.frame")

RUN_FLAGS = ["--no-progress", "--workers", "0", "--device", "cpu"]


@pytest.fixture(scope="module")
def raw_pairs(tmp_path_factory):
    """Seven raw images (one without a face) and 20 pairs, fold k holding one same and one
    different pair (the labels are arbitrary: the run is about alignment, not accuracy)."""
    folder = tmp_path_factory.mktemp("raw")
    names = write_raw_folder(folder / "images")
    combos = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]][:20]
    rows = [f"{a},{b},{k % 2},{k // 2 + 1}" for k, (a, b) in enumerate(combos)]
    (folder / "pairs.csv").write_text("\n".join(rows) + "\n")
    torch.manual_seed(0)
    save_checkpoint(folder / "tiny.pt", backbone_spec("tinycnn").build(embedding_dim=64).eval(), "tinycnn",
                    Preprocessing(), embedding_dim=64)
    return folder


def pairs_args(folder, out, cache):
    return ["pairs", "--data", str(folder / "images"), "--pairs-csv", str(folder / "pairs.csv"),
            "--model", str(folder / "tiny.pt"), "--out", str(out), "--cache-dir", str(cache), *RUN_FLAGS]


def test_pairs_align_runs_records_the_alignment_and_caches(raw_pairs, tmp_path, capsys):
    cache = tmp_path / "cache"
    assert main([*pairs_args(raw_pairs, tmp_path / "run", cache), "--align"]) == 0
    printed = capsys.readouterr().out
    assert "aligned    7 images: detector mtcnn, arcface template, largest face; no face found in 1" in printed
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    alignment = result["alignment"]
    assert alignment["settings"]["template"] == "arcface"
    assert alignment["settings"]["face_choice"] == "largest"
    assert alignment["settings"]["detector"] == "mtcnn" and len(alignment["settings"]["weights_sha256"]) == 3
    assert alignment["fallback"]["count"] == 1 and alignment["fallback"]["images"][0].endswith("ramp.png")
    assert not result["embedding"]["from_cache"]

    # Again: crops and embeddings come from the caches.
    assert main([*pairs_args(raw_pairs, tmp_path / "again", cache), "--align"]) == 0
    again = json.loads((tmp_path / "again" / "result.json").read_text())
    assert again["embedding"]["from_cache"] and again["metrics"] == result["metrics"]


def test_raw_images_without_align_are_refused_and_so_is_a_template_of_another_size(raw_pairs, tmp_path, capsys):
    assert main(pairs_args(raw_pairs, tmp_path / "run", tmp_path / "cache")) == 2
    assert "images are not 112x112 pixels" in capsys.readouterr().err
    assert main([*pairs_args(raw_pairs, tmp_path / "run", tmp_path / "cache"), "--align", "sphereface"]) == 2
    error = capsys.readouterr().err
    assert "--align sphereface makes 96x112 crops; the model takes 112x112" in error
    assert "use --align arcface" in error
    assert not (tmp_path / "cache").exists()  # refused before anything was aligned


def test_bin_pack_align_stores_the_crops(raw_pairs, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FVERIFY_CACHE_DIR", str(tmp_path / "cache"))
    packed = tmp_path / "set.bin"
    assert main(["bin", "pack", "--from", "pairs", "--data", str(raw_pairs / "images"), "--pairs-csv",
                 str(raw_pairs / "pairs.csv"), "--align", "sphereface", "--device", "cpu", str(packed)]) == 0
    assert "no face found in 1" in capsys.readouterr().out
    images, issame = pickle.loads(packed.read_bytes())
    assert len(images) == 40 and len(issame) == 20
    assert {decode_image(blob, "bin").shape for blob in images} == {(112, 96, 3)}
