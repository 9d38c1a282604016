import os

import pytest
import torch

from fverify.errors import FverifyError
from fverify.models.checkpoint import (
    CHECKPOINT_FORMAT,
    build_backbone,
    load_checkpoint_file,
    read_weights,
    save_checkpoint,
)
from fverify.models.mobilefacenet import mobilefacenet
from fverify.models.preprocessing import Preprocessing


@pytest.fixture(scope="module")
def backbone():
    torch.manual_seed(0)
    return mobilefacenet(64).eval()


def test_round_trip_keeps_weights_and_contract_and_tolerates_training_keys(tmp_path, backbone):
    contract = Preprocessing(color="BGR", std=(127.5, 127.5, 127.5))
    path = tmp_path / "ckpt.pt"
    save_checkpoint(path, backbone, "mobilefacenet", contract, 64, epoch=3, optimizer={"lr": torch.tensor(0.1)})
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == CHECKPOINT_FORMAT and raw["epoch"] == 3
    loaded = load_checkpoint_file(path)
    assert (loaded.arch, loaded.embedding_dim, loaded.preprocessing) == ("mobilefacenet", 64, contract)
    for key, value in backbone.state_dict().items():
        assert torch.equal(loaded.module.state_dict()[key], value)
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]  # atomic write left no temporary


def test_extra_keys_may_not_overwrite_the_contract(tmp_path, backbone):
    with pytest.raises(ValueError, match="clash"):
        save_checkpoint(tmp_path / "c.pt", backbone, "mobilefacenet", Preprocessing(), 64, color="BGR")


class _Exploit:
    def __reduce__(self):
        return (os.mkdir, (os.environ["FVERIFY_TEST_MARKER"],))


def test_pickled_code_is_refused_and_never_runs(tmp_path, monkeypatch):
    marker = tmp_path / "code-ran"
    monkeypatch.setenv("FVERIFY_TEST_MARKER", str(marker))
    path = tmp_path / "evil.pt"
    torch.save({"state_dict": {}, "payload": _Exploit()}, path)
    with pytest.raises(FverifyError, match="evil.pt: refused to load"):
        read_weights(path)
    assert not marker.exists()
    # The same file under plain pickle semantics does run the code: the check above is real.
    torch.load(path, weights_only=False)
    assert marker.exists()


def test_bare_state_dict_needs_arch_and_accepts_ddp_and_arcface_torch_layouts(tmp_path, backbone):
    state = backbone.state_dict()
    bare = tmp_path / "backbone.pth"
    torch.save(state, bare)
    with pytest.raises(FverifyError, match="pass --arch"):
        load_checkpoint_file(bare)
    assert load_checkpoint_file(bare, "mobilefacenet").preprocessing is None
    ddp = tmp_path / "ddp.pth"
    torch.save({f"module.{k}": v for k, v in state.items()}, ddp)
    training = tmp_path / "checkpoint_gpu_0.pt"
    torch.save({"epoch": 1, "state_dict_backbone": state, "state_optimizer": {}}, training)
    for path in (ddp, training):
        loaded = load_checkpoint_file(path, "mobilefacenet")
        assert loaded.embedding_dim == 64
        assert torch.equal(loaded.module.state_dict()["conv_sep.layers.0.weight"], state["conv_sep.layers.0.weight"])


def test_arch_contradicting_the_checkpoint_is_an_error(tmp_path, backbone):
    path = tmp_path / "c.pt"
    save_checkpoint(path, backbone, "mobilefacenet", Preprocessing(), 64)
    with pytest.raises(FverifyError, match="contradicts the checkpoint's arch mobilefacenet"):
        load_checkpoint_file(path, "iresnet18")


def test_mismatched_weights_name_the_first_keys(backbone):
    state = dict(backbone.state_dict())
    del state["conv_sep.layers.0.weight"]
    state["head.kernel"] = torch.zeros(3)
    state["layers.0.layers.0.weight"] = torch.zeros(1, 3, 3, 3)
    with pytest.raises(FverifyError) as caught:
        build_backbone("mobilefacenet", state, "x.pt")
    message = str(caught.value)
    assert "x.pt: weights do not fit mobilefacenet" in message
    assert "1 missing: conv_sep.layers.0.weight" in message
    assert "1 unexpected: head.kernel" in message
    assert "layers.0.layers.0.weight [1, 3, 3, 3] (expected [128, 3, 3, 3])" in message


def test_wrong_architecture_lists_only_the_first_keys(backbone):
    with pytest.raises(FverifyError, match=r"missing: conv1.weight, .* and \d+ more"):
        build_backbone("iresnet18", backbone.state_dict(), "x.pt")


def test_not_a_state_dict_and_truncated_files_are_clear_errors(tmp_path):
    listy = tmp_path / "list.pt"
    torch.save([1, 2, 3], listy)
    with pytest.raises(FverifyError, match="not a checkpoint or state dict"):
        load_checkpoint_file(listy, "mobilefacenet")
    truncated = tmp_path / "cut.pt"
    torch.save({"w": torch.zeros(100)}, truncated)
    truncated.write_bytes(truncated.read_bytes()[:50])
    with pytest.raises(FverifyError, match="cut.pt: truncated"):
        read_weights(truncated)


def test_other_checkpoint_format_versions_are_refused(tmp_path, backbone):
    path = tmp_path / "future.pt"
    torch.save({"format": "fverify.checkpoint/9", "state_dict": backbone.state_dict()}, path)
    with pytest.raises(FverifyError, match="unsupported checkpoint format"):
        load_checkpoint_file(path)

