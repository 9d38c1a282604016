import hashlib

from fverify.hashing import file_digest


def test_digest_of_a_file_larger_than_one_chunk(tmp_path):
    data = bytes(range(256)) * 9000  # 2.2 MiB: three reads
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert file_digest(path, "md5") == hashlib.md5(data).hexdigest()
    assert file_digest(path, "sha256") == hashlib.sha256(data).hexdigest()
