import pytest

from fverify.errors import FverifyError
from fverify.protocols.lines import read_lines


@pytest.mark.parametrize("content, lines", [
    (b"a\x0cb\nc\xe2\x80\xa8d\r\ne\x85\x1cf\rg\n", ["a\x0cb", "c\u2028d", "e\x85\x1cf", "g"]),
    (b"a\n\nb", ["a", "", "b"]),
    (b"a\n\n", ["a", ""]),
    (b"", []),
])
def test_lines_are_split_at_line_ends_only(tmp_path, content, lines):
    path = tmp_path / "list.txt"
    path.write_bytes(content.replace(b"\x85", "\x85".encode()))
    assert read_lines(path, "list", fix="x") == lines


def test_unreadable_files_are_named(tmp_path):
    (tmp_path / "bad.txt").write_bytes(b"ok\n\xff\n")
    with pytest.raises(FverifyError, match=r"bad.txt: cannot read splits file: 'utf-8' codec"):
        read_lines(tmp_path / "bad.txt", "splits file", fix="x")
    with pytest.raises(FverifyError, match="cannot read pairs file: .*No such file"):
        read_lines(tmp_path / "absent.txt", "pairs file", fix="x")
