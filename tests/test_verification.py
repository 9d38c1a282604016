import numpy as np
import pytest

from fverify import verification
from fverify.errors import FverifyError
from fverify.models.embedder import ModelSource
from fverify.models.python_model import CallableEmbedder
from fverify.protocols.lfw import load_lfw
from fverify.verification import ExtractionSettings, verify

QUIET = ExtractionSettings(progress=False, workers=0, batch_size=16)


def mean_colour(faces):
    return faces.reshape(len(faces), -1, 3).mean(axis=1) - 127.5


def embedder(tmp_path):
    return CallableEmbedder(mean_colour, ModelSource("python", tmp_path / "m.py", "0" * 64), "mean_colour")


def test_scores_are_the_cosines_of_the_pair_embeddings(synth_lfw, tmp_path):
    evalset = load_lfw(synth_lfw, pairs=[synth_lfw / "pairs.txt"])
    done = verify(evalset, embedder(tmp_path), tmp_path / "run", extraction=QUIET)
    protocol = evalset.protocol
    faces = np.stack([evalset.images[i] for i in range(len(evalset.images))])
    e = mean_colour(faces) * 2  # flip sum of a mirror-invariant embedding: twice it
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    expected = (e[protocol.pairs[:, 0]] * e[protocol.pairs[:, 1]]).sum(axis=1)
    np.testing.assert_allclose(done.scores, expected, atol=1e-6)
    assert done.result["metrics"]["accuracy"]["mean"] == done.evaluation.accuracy.mean
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["result.json", "roc.png", "scores.csv"]


def test_only_rank_zero_writes_under_torchrun(synth_lfw, tmp_path, monkeypatch):
    monkeypatch.setattr(verification, "rank_and_world", lambda: (1, 2))
    evalset = load_lfw(synth_lfw, pairs=[synth_lfw / "pairs.txt"])
    assert verify(evalset, embedder(tmp_path), tmp_path / "run", extraction=QUIET) is None
    assert not (tmp_path / "run").exists()


def test_an_existing_run_folder_is_refused_before_any_embedding(synth_lfw, tmp_path):
    class Refusing(CallableEmbedder):
        def embed(self, faces):
            raise AssertionError("the model ran")

    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "result.json").write_text("{}")
    evalset = load_lfw(synth_lfw, pairs=[synth_lfw / "pairs.txt"])
    model = Refusing(mean_colour, ModelSource("python", tmp_path / "m.py", "0" * 64), "m")
    with pytest.raises(FverifyError, match="not an empty folder"):
        verify(evalset, model, tmp_path / "run", extraction=QUIET)
    assert (tmp_path / "run" / "result.json").read_text() == "{}"
