import pytest

from fverify.errors import FverifyError
from fverify.models.dtype import resolve_dtype


def test_auto_is_float32_on_cpu_and_amp_on_cuda():
    assert resolve_dtype("auto", "cpu") == "float32"
    assert resolve_dtype("auto", "cuda") == "float16"


def test_explicit_dtypes_are_kept_and_unknown_ones_refused():
    assert resolve_dtype("bfloat16", "cpu") == "bfloat16"
    with pytest.raises(FverifyError, match="unknown dtype 'int8'"):
        resolve_dtype("int8", "cpu")
