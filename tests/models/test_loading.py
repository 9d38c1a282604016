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


@pytest.fixture(scope="module")
def saved(tmp_path_factory, backbone):
    """The same weights as a current (zip) and a legacy torch.save file: {kind: bytes}."""
    folder = tmp_path_factory.mktemp("saved")
    save_checkpoint(folder / "zip.pt", backbone, "mobilefacenet", Preprocessing(), 32)
    torch.save(backbone.state_dict(), folder / "legacy.pt", _use_new_zipfile_serialization=False)
    return {kind: (folder / f"{kind}.pt").read_bytes() for kind in ("zip", "legacy")}


@pytest.mark.parametrize("kind", ["zip", "legacy"])
def test_a_file_cut_short_anywhere_is_called_truncated(kind, saved, tmp_path):
    # Cuts in the magic number, in a global's name (which torch reads as a refused global), in
    # the pickled object, in the storages and just before the end.
    data = saved[kind]
    for length in (4, 49, 190, 260, 2_000, len(data) // 2, len(data) - 1):
        cut = tmp_path / f"{kind}-{length}.pt"
        cut.write_bytes(data[:length])
        with pytest.raises(FverifyError, match=f"{cut.name}: truncated"):
            load_embedder(str(cut), arch=None if kind == "zip" else "mobilefacenet")


def test_a_zip_whose_directory_is_corrupt_is_a_clear_error(saved, tmp_path):
    data = saved["zip"]
    directory = data.rfind(b"PK\x01\x02")  # the last entry of the central directory
    damaged = tmp_path / "damaged.pt"
    damaged.write_bytes(data[:directory + 4] + bytes(40) + data[directory + 44:])  # zipfile: BadZipFile
    with pytest.raises(FverifyError, match="damaged.pt: corrupt zip archive"):
        load_embedder(str(damaged))


def test_an_unreadable_model_file_is_a_clear_error(saved, tmp_path, monkeypatch):
    path = tmp_path / "locked.pt"
    path.write_bytes(saved["zip"])

    # Tests run as root, which chmod cannot lock out: the refusal is simulated at open().
    def refuse(file, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(file))

    monkeypatch.setattr("fverify.models.loading.open", refuse, raising=False)
    with pytest.raises(FverifyError, match="locked.pt: cannot read the model file: Permission denied"):
        load_embedder(str(path))


def test_an_empty_model_file_says_so(tmp_path):
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(FverifyError, match="empty.pt: the model file is empty"):
        load_embedder(str(tmp_path / "empty.pt"))
