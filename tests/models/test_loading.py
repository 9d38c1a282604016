import warnings

import numpy as np
import pytest
import torch

from fverify.errors import FverifyError
from fverify.models.checkpoint import save_checkpoint
from fverify.models.embedder import TorchEmbedder
from fverify.models.loading import detect_format, load_embedder
from fverify.models.mobilefacenet import mobilefacenet
from fverify.models.preprocessing import Preprocessing, PreprocessingFlags


@pytest.fixture(scope="module")
def backbone():
    torch.manual_seed(0)
    return mobilefacenet(32).eval()


@pytest.fixture(scope="module")
def faces():
    return np.random.default_rng(1).integers(0, 256, size=(2, 112, 112, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def eager(backbone, faces):
    """Embeddings of ``faces`` by the eager backbone, float32, default preprocessing."""
    x = (torch.from_numpy(faces).permute(0, 3, 1, 2).float() - 127.5) / 128.0
    with torch.no_grad():
        return backbone(x).numpy()


def test_fverify_checkpoint_carries_its_contract_and_flags_override_it(tmp_path, backbone, faces, eager):
    path = tmp_path / "ckpt.pt"
    save_checkpoint(path, backbone, "mobilefacenet", Preprocessing(color="BGR"), 32)
    embedder = load_embedder(str(path), dtype="float32")
    assert detect_format(path) == "torch"
    assert embedder.describe()["format"] == "fverify-checkpoint"
    assert embedder.describe()["preprocessing"]["color"] == "BGR"
    overridden = load_embedder(str(path), flags=PreprocessingFlags(color="RGB"), dtype="float32")
    np.testing.assert_allclose(overridden.embed(faces), eager, rtol=1e-4, atol=1e-4)


def test_bare_state_dict_with_arch(tmp_path, backbone, faces, eager):
    path = tmp_path / "backbone.pth"
    torch.save(backbone.state_dict(), path)
    embedder = load_embedder(str(path), arch="mobilefacenet", dtype="float32")
    assert isinstance(embedder, TorchEmbedder) and embedder.describe()["format"] == "state-dict"
    assert embedder.describe()["embedding_dim"] == 32
    np.testing.assert_allclose(embedder.embed(faces), eager, rtol=1e-4, atol=1e-4)


def test_legacy_torch_save_format_is_recognised(tmp_path, backbone):
    path = tmp_path / "old.pth"
    torch.save(backbone.state_dict(), path, _use_new_zipfile_serialization=False)
    assert detect_format(path) == "torch"
    assert load_embedder(str(path), arch="mobilefacenet").describe()["arch"] == "mobilefacenet"


def test_torchscript_gives_the_eager_embeddings(tmp_path, backbone, faces, eager):
    path = tmp_path / "model.ts"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript is deprecated in torch >= 2.10
        torch.jit.save(torch.jit.trace(backbone, torch.zeros(1, 3, 112, 112)), str(path))
    assert detect_format(path) == "torchscript"
    embedder = load_embedder(str(path), dtype="float32")
    assert embedder.describe()["format"] == "torchscript" and embedder.describe()["arch"] is None
    np.testing.assert_allclose(embedder.embed(faces), eager, rtol=1e-4, atol=1e-4)
    bf16 = load_embedder(str(path), dtype="bfloat16").embed(faces)  # autocast reaches TorchScript too
    cosine = (bf16 * eager).sum(1) / np.linalg.norm(bf16, axis=1) / np.linalg.norm(eager, axis=1)
    assert cosine.min() > 0.99 and not np.allclose(bf16, eager, rtol=1e-4, atol=0)
    with pytest.raises(FverifyError, match="--arch applies to bare state dicts"):
        load_embedder(str(path), arch="iresnet18")


def test_unknown_and_missing_files_are_clear_errors(tmp_path):
    junk = tmp_path / "model.bin"
    junk.write_bytes(b"GIF89a not a model")
    with pytest.raises(FverifyError, match="model.bin: unrecognised model file"):
        load_embedder(str(junk))
    with pytest.raises(FverifyError, match="nope.pt: no such model file"):
        load_embedder(str(tmp_path / "nope.pt"))
