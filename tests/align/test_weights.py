import io
import pickle

import numpy as np
import pytest

from fverify.align.weights import NETWORKS, load_network_weights, read_weight_file, weight_file
from fverify.errors import FverifyError

lz4_frame = pytest.importorskip("lz4.frame")

# Shapes from the mtcnn package's Keras definitions (mtcnn/network/*.py): HWIO kernels,
# per-channel PReLU slopes, (in, out) dense kernels.
EXPECTED_SHAPES = {
    "pnet": [(3, 3, 3, 10), (10,), (1, 1, 10), (3, 3, 10, 16), (16,), (1, 1, 16),
             (3, 3, 16, 32), (32,), (1, 1, 32), (1, 1, 32, 4), (4,), (1, 1, 32, 2), (2,)],
    "rnet": [(3, 3, 3, 28), (28,), (1, 1, 28), (3, 3, 28, 48), (48,), (1, 1, 48),
             (2, 2, 48, 64), (64,), (1, 1, 64), (576, 128), (128,), (128,), (128, 4), (4,),
             (128, 2), (2,)],
    "onet": [(3, 3, 3, 32), (32,), (1, 1, 32), (3, 3, 32, 64), (64,), (1, 1, 64),
             (3, 3, 64, 64), (64,), (1, 1, 64), (2, 2, 64, 128), (128,), (1, 1, 128),
             (1152, 256), (256,), (256,), (256, 4), (4,), (256, 10), (10,), (256, 2), (2,)],
}


@pytest.mark.parametrize("network", NETWORKS)
def test_shapes_follow_the_keras_layer_order(network):
    arrays = load_network_weights(network)
    assert [a.shape for a in arrays] == EXPECTED_SHAPES[network]
    assert all(a.dtype == np.float32 and np.isfinite(a).all() for a in arrays)


@pytest.mark.parametrize("network", NETWORKS)
def test_values_equal_joblibs_own_reader(network):
    joblib = pytest.importorskip("joblib")
    reference = joblib.load(weight_file(network))  # trusted here: the package's own file
    arrays = load_network_weights(network)
    assert len(arrays) == len(reference)
    for ours, theirs in zip(arrays, reference):
        np.testing.assert_array_equal(ours, theirs)


def _write(tmp_path, payload: bytes):
    path = tmp_path / "w.lz4"
    path.write_bytes(lz4_frame.compress(payload))
    return path


class _Evil:
    def __reduce__(self):
        return (print, ("ran",))


def test_a_pickle_calling_a_function_is_refused(tmp_path, capsys):
    path = _write(tmp_path, pickle.dumps([_Evil()], protocol=4))
    with pytest.raises(FverifyError, match="not admitted"):
        read_weight_file(path)
    assert "ran" not in capsys.readouterr().out


def test_an_array_larger_than_the_file_is_refused(tmp_path):
    good = lz4_frame.decompress(weight_file("pnet").read_bytes())
    # Shape (3, 3, 3, 10) is stored as BININT1 3,3,3 then BININT1 10; make the last dim 255.
    marker = b"K\x03K\x03K\x03K\x0a"
    assert marker in good
    path = _write(tmp_path, good.replace(marker, b"K\x03K\x03K\x03K\xff", 1))
    with pytest.raises(FverifyError, match="larger than the file"):
        read_weight_file(path)


def test_a_file_that_is_not_lz4_is_refused(tmp_path):
    path = tmp_path / "w.lz4"
    path.write_bytes(b"not lz4 at all")
    with pytest.raises(FverifyError, match="w.lz4"):
        read_weight_file(path)


def test_numpy_pickles_of_other_dtypes_are_refused(tmp_path):
    buffer = io.BytesIO()
    pickle.dump(np.zeros(3, dtype=np.float64), buffer, protocol=4)
    with pytest.raises(FverifyError):
        read_weight_file(_write(tmp_path, buffer.getvalue()))
