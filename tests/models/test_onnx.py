import warnings

import numpy as np
import pytest
import torch

from fverify.errors import FverifyError
from fverify.models.loading import detect_format, load_embedder
from fverify.models.mobilefacenet import mobilefacenet
from fverify.models.onnx import _onnx_device
from fverify.models.preprocessing import PreprocessingFlags

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    torch.manual_seed(0)
    backbone = mobilefacenet(32).eval()
    path = tmp_path_factory.mktemp("onnx") / "model.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript-based exporter announces its deprecation
        torch.onnx.export(backbone, (torch.zeros(1, 3, 112, 112),), str(path), dynamo=False,
                          input_names=["faces"], dynamic_axes={"faces": {0: "batch"}})
    return backbone, path


def test_onnx_gives_the_eager_embeddings(exported):
    backbone, path = exported
    faces = np.random.default_rng(2).integers(0, 256, size=(3, 112, 112, 3), dtype=np.uint8)
    x = (torch.from_numpy(faces[..., ::-1].copy()).permute(0, 3, 1, 2).float() - 127.5) / 127.5
    with torch.no_grad():
        expected = backbone(x).numpy()
    assert detect_format(path) == "onnx"
    embedder = load_embedder(str(path), flags=PreprocessingFlags(color="BGR", std=(127.5,) * 3))
    np.testing.assert_allclose(embedder.embed(faces), expected, rtol=1e-4, atol=1e-4)
    record = embedder.describe()
    assert record["format"] == "onnx" and record["dtype"] == "float32"
    assert record["preprocessing"]["input_size"] == [112, 112]  # read from the graph


def test_onnx_refuses_settings_it_cannot_honour(exported):
    _, path = exported
    with pytest.raises(FverifyError, match="--dtype bfloat16 does not apply"):
        load_embedder(str(path), dtype="bfloat16")
    with pytest.raises(FverifyError, match="--arch applies to bare state dicts"):
        load_embedder(str(path), arch="mobilefacenet")


def test_missing_onnxruntime_is_a_clear_error(exported, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import now raises ImportError
    with pytest.raises(FverifyError, match=r"pip install 'fverify\[onnx\]'"):
        load_embedder(str(exported[1]))


def test_onnx_devices_follow_the_torch_rule_with_the_onnx_provider(monkeypatch):
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    with_cuda = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert _onnx_device("auto", with_cuda) == torch.device("cuda:0")
    assert _onnx_device("auto", ["CPUExecutionProvider"]) == torch.device("cpu")
    assert _onnx_device("cuda:1", with_cuda) == torch.device("cuda:1")
    with pytest.raises(FverifyError, match="onnxruntime-gpu"):
        _onnx_device("cuda", ["CPUExecutionProvider"])
    with pytest.raises(FverifyError, match="unknown device 'gpu0'"):
        _onnx_device("gpu0", with_cuda)
