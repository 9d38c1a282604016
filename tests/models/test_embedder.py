from pathlib import Path

import numpy as np
import pytest
import torch

from fverify.errors import FverifyError
from fverify.models.embedder import (
    ModelSource,
    TorchEmbedder,
    file_sha256,
    fold_batch_norms,
    normalise_faces,
    parse_device,
    resolve_device,
)
from fverify.models.mobilefacenet import mobilefacenet
from fverify.models.preprocessing import Preprocessing


@pytest.fixture(scope="module")
def trained_looking_backbone():
    """mobilefacenet with non-trivial batch-norm statistics, so folding them matters."""
    torch.manual_seed(0)
    backbone = mobilefacenet(32)
    for module in backbone.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.running_mean.uniform_(-0.2, 0.2)
            module.running_var.uniform_(0.5, 2.0)
            module.bias.data.uniform_(-0.1, 0.1)
    return backbone.eval()


@pytest.fixture(scope="module")
def faces():
    return np.random.default_rng(0).integers(0, 256, size=(2, 112, 112, 3), dtype=np.uint8)


def reference_input(faces, contract):
    """float64 (x - mean) / std in the model's colour order, NCHW."""
    x = faces.astype(np.float64)
    if contract.color == "BGR":
        x = x[..., ::-1]
    x = (x - np.array(contract.mean)) / np.array(contract.std)
    return torch.from_numpy(x.transpose(0, 3, 1, 2).astype(np.float32))


@pytest.mark.parametrize("contract", [Preprocessing(), Preprocessing(color="BGR", mean=(1.0, 2.0, 3.0), std=(4.0, 5.0, 6.0))])
def test_normalise_faces_matches_the_formula(faces, contract):
    mean = torch.tensor(contract.mean).view(1, 3, 1, 1)
    std = torch.tensor(contract.std).view(1, 3, 1, 1)
    x = normalise_faces(torch.from_numpy(faces), contract.color, mean, std)
    torch.testing.assert_close(x, reference_input(faces, contract))
    assert x.is_contiguous(memory_format=torch.channels_last)


def test_folding_batch_norms_keeps_the_function(trained_looking_backbone):
    x = torch.randn(2, 3, 112, 112)
    folded = fold_batch_norms(trained_looking_backbone)
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules()) == 0
    with torch.no_grad():
        torch.testing.assert_close(folded(x), trained_looking_backbone(x), rtol=1e-4, atol=1e-4)


def test_torch_embedder_equals_the_eager_model(trained_looking_backbone, faces, tmp_path):
    contract = Preprocessing(color="BGR")
    weights = tmp_path / "w.pt"
    torch.save(trained_looking_backbone.state_dict(), weights)
    embedder = TorchEmbedder(trained_looking_backbone, contract, ModelSource.of_file("state-dict", weights),
                             arch="mobilefacenet", embedding_dim=32, device="cpu", dtype="float32")
    with torch.no_grad():
        expected = trained_looking_backbone(reference_input(faces, contract)).numpy()
    np.testing.assert_allclose(embedder.embed(faces), expected, rtol=1e-4, atol=1e-4)
    record = embedder.describe()
    assert record["sha256"] == file_sha256(weights) and record["dtype"] == "float32"
    assert record["preprocessing"]["color"] == "BGR"
    assert "path" not in embedder.cache_identity() and embedder.cache_identity()["device"] == "cpu"


def test_wrapping_a_training_model_leaves_it_training(faces):
    backbone = mobilefacenet(16).train()
    TorchEmbedder(backbone, Preprocessing(), ModelSource("state-dict", Path("w.pt"), "0"), device="cpu").embed(faces)
    assert backbone.training


def test_bfloat16_embeddings_stay_close_to_float32(trained_looking_backbone, faces):
    source = ModelSource("state-dict", Path("w.pt"), "0")
    fp32 = TorchEmbedder(trained_looking_backbone, Preprocessing(), source, device="cpu", dtype="float32")
    bf16 = TorchEmbedder(trained_looking_backbone, Preprocessing(), source, device="cpu", dtype="bfloat16")
    a, b = fp32.embed(faces), bf16.embed(faces)
    cosine = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cosine.min() > 0.99
    assert not np.array_equal(a, b)  # bf16 really ran


def test_device_resolution():
    assert resolve_device("cpu").type == "cpu"
    with pytest.raises(FverifyError, match="unknown device"):
        resolve_device("gpu0")


@pytest.mark.parametrize("device, cuda_available, local_rank, expected", [
    ("auto", False, "3", "cpu"),
    ("auto", True, None, "cuda:0"),
    ("auto", True, "3", "cuda:3"),  # torchrun: each rank its own GPU
    ("cpu", True, None, "cpu"),
    ("cuda:1", False, None, "cuda:1"),  # availability is the caller's check
])
def test_one_device_rule(monkeypatch, device, cuda_available, local_rank, expected):
    if local_rank is None:
        monkeypatch.delenv("LOCAL_RANK", raising=False)
    else:
        monkeypatch.setenv("LOCAL_RANK", local_rank)
    assert parse_device(device, cuda_available=cuda_available) == torch.device(expected)


@pytest.mark.parametrize("device", ["gpu0", "mps", "cuda:x", ""])
def test_unknown_devices_are_refused_with_the_choices(device):
    with pytest.raises(FverifyError, match="unknown device") as error:
        parse_device(device, cuda_available=True)
    assert "'auto'" in str(error.value) and "'cuda:N'" in str(error.value)


def test_cuda_without_a_gpu_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(FverifyError, match="no CUDA GPU"):
        resolve_device("cuda")
