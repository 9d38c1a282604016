import hashlib

from fverify.hashing import file_digest


def test_digest_of_a_file_larger_than_one_chunk(tmp_path):
    data = bytes(range(256)) * 9000  # 2.2 MiB: three reads
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert file_digest(path, "md5") == hashlib.md5(data).hexdigest()
    assert file_digest(path, "sha256") == hashlib.sha256(data).hexdigest()


def test_source_digest_covers_the_named_modules_bytes_and_names():
    """Against a hand-made digest of the module files: the named modules only, in name order."""
    import hashlib
    from pathlib import Path

    import fverify.align as package
    from fverify.hashing import source_sha256

    folder = Path(package.__file__).parent
    expected = hashlib.sha256()
    for name in ("boxes.py", "resize.py"):
        expected.update(name.encode() + b"\0" + (folder / name).read_bytes() + b"\0")
    assert source_sha256("fverify.align", ("resize", "boxes")) == expected.hexdigest()
    assert source_sha256("fverify.align", ("boxes",)) != expected.hexdigest()
    assert source_sha256("fverify.align") != expected.hexdigest()  # every module
