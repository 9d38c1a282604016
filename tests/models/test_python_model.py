import numpy as np
import pytest

from fverify.errors import FverifyError
from fverify.models.loading import load_embedder
from fverify.models.preprocessing import PreprocessingFlags
from fverify.models.python_model import parse_python_spec

USER_MODEL = '''
import numpy as np

calls = []

def embed(faces):
    calls.append(faces.shape)
    return faces.reshape(len(faces), -1)[:, :4].astype(np.float64) + 1

def broken(faces):
    return np.zeros((len(faces) + 1, 3))

def nans(faces):
    return np.full((len(faces), 3), np.nan)

NOT_CALLABLE = 3
'''


@pytest.fixture
def user_file(tmp_path):
    path = tmp_path / "my model.py"
    path.write_text(USER_MODEL)
    return path


def test_spec_syntax():
    assert parse_python_spec("dir/m.py:embed")[1] == "embed"
    assert parse_python_spec("C:/models/m.py:embed")[0].name == "m.py"
    assert parse_python_spec("ckpt.pt") is None
    assert parse_python_spec("m.py:not-a-name") is None


def test_callable_receives_uint8_rgb_faces_and_its_output_is_float32(user_file):
    embedder = load_embedder(f"{user_file}:embed", flags=PreprocessingFlags(input_size=(8, 8)))
    faces = np.arange(2 * 8 * 8 * 3, dtype=np.uint8).reshape(2, 8, 8, 3)
    out = embedder.embed(faces)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, faces.reshape(2, -1)[:, :4] + 1)
    assert embedder.input_size == (8, 8)
    record = embedder.describe()
    assert record["format"] == "python" and record["path"].endswith("my model.py:embed")
    assert embedder.cache_identity() is None  # its dependencies are unknown: never cached


def test_bad_callables_and_flags_are_clear_errors(user_file):
    faces = np.zeros((2, 112, 112, 3), dtype=np.uint8)
    with pytest.raises(FverifyError, match=r"broken returned shape \(3, 3\) for 2 faces"):
        load_embedder(f"{user_file}:broken").embed(faces)
    with pytest.raises(FverifyError, match="NaN"):
        load_embedder(f"{user_file}:nans").embed(faces)
    with pytest.raises(FverifyError, match="'NOT_CALLABLE' is not a callable"):
        load_embedder(f"{user_file}:NOT_CALLABLE")
    with pytest.raises(FverifyError, match="--color, --dtype do not apply to a Python callable"):
        load_embedder(f"{user_file}:embed", flags=PreprocessingFlags(color="BGR"), dtype="float32")
    with pytest.raises(FverifyError, match="no such Python file"):
        load_embedder(f"{user_file.parent / 'other.py'}:embed")


def test_an_unreadable_python_file_is_a_clear_error(user_file, monkeypatch):
    # Tests run as root, which chmod cannot lock out: the refusal is simulated at open().
    def refuse(file, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(file))

    monkeypatch.setattr("fverify.models.python_model.open", refuse, raising=False)
    with pytest.raises(FverifyError, match="my model.py: cannot read the Python file: Permission denied"):
        load_embedder(f"{user_file}:embed")
