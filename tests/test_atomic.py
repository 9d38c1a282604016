import json
import os
import signal
import socket
import subprocess
import sys

import pytest

from fverify.atomic import (atomic_directory, atomic_open, check_new_file, check_writable_directory,
                            write_json)
from fverify.errors import FverifyError


def test_atomic_open_replaces_whole_file(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    with atomic_open(target) as handle:
        handle.write("new")
    assert target.read_text() == "new"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_failure_mid_write_keeps_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_open(target) as handle:
            handle.write("half")
            raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_write_json_refuses_nan(tmp_path):
    write_json(tmp_path / "a.json", {"x": 1.5})
    assert json.loads((tmp_path / "a.json").read_text()) == {"x": 1.5}
    with pytest.raises(ValueError):
        write_json(tmp_path / "b.json", {"x": float("nan")})
    assert not (tmp_path / "b.json").exists()


def test_atomic_directory_appears_whole_or_not_at_all(tmp_path):
    with atomic_directory(tmp_path / "tree") as staging:
        (staging / "a").mkdir()
        (staging / "a" / "f.txt").write_text("x")
        assert not (tmp_path / "tree").exists()
    assert (tmp_path / "tree" / "a" / "f.txt").read_text() == "x"
    with pytest.raises(RuntimeError):
        with atomic_directory(tmp_path / "broken") as staging:
            (staging / "half").write_text("y")
            raise RuntimeError("killed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tree"]
    with pytest.raises(FverifyError, match="not an empty folder"):
        with atomic_directory(tmp_path / "tree"):
            pass
    (tmp_path / "empty").mkdir()
    with atomic_directory(tmp_path / "empty") as staging:
        (staging / "g").write_text("z")
    assert (tmp_path / "empty" / "g").read_text() == "z"


def test_written_files_and_folders_get_the_usual_permissions(tmp_path):
    old = os.umask(0o027)
    try:
        write_json(tmp_path / "a.json", {})
        with atomic_directory(tmp_path / "tree") as staging:
            (staging / "x").write_text("x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "tree").stat().st_mode & 0o777 == 0o750


def test_unwritable_targets_are_user_errors_that_leave_nothing(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(FverifyError, match="is a folder"):
        write_json(tmp_path, {})
    with pytest.raises(FverifyError, match="cannot write here"):
        write_json(tmp_path / "afile" / "out.json", {})
    with pytest.raises(FverifyError, match="choose a writable location"):
        with atomic_directory(tmp_path / "afile" / "run"):
            pass
    with pytest.raises(FverifyError, match="not an empty folder"):
        with atomic_directory(tmp_path / "afile"):
            pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_output_checks_refuse_what_a_write_would_refuse(tmp_path):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir").mkdir()
    check_new_file(tmp_path / "new" / "out.json")  # absent parents are created on writing
    check_new_file(tmp_path / "afile")  # an existing file is replaced
    with pytest.raises(FverifyError, match="is a folder"):
        check_new_file(tmp_path / "adir")
    with pytest.raises(FverifyError, match="cannot create a file under"):
        check_new_file(tmp_path / "afile" / "out.json")
    check_writable_directory(tmp_path / "adir")
    check_writable_directory(tmp_path / "new" / "cache")
    with pytest.raises(FverifyError, match="is a file"):
        check_writable_directory(tmp_path / "afile")
    with pytest.raises(FverifyError, match="cannot create a folder under"):
        check_writable_directory(tmp_path / "afile" / "cache")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir", "afile"]


KILLED_WRITER = """
import os, signal, sys
from fverify.atomic import atomic_directory, atomic_open

folder = sys.argv[1]
with atomic_directory(os.path.join(folder, "run")) as staging:
    with atomic_open(os.path.join(folder, "cache.npy"), "wb") as handle:
        handle.write(b"half")
        os.kill(os.getpid(), signal.SIGKILL)
"""


def test_what_a_killed_writer_leaves_is_removed_by_the_next_one(tmp_path):
    killed = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(tmp_path)])
    assert killed.returncode == -signal.SIGKILL
    left = sorted(p.name for p in tmp_path.iterdir())
    assert len(left) == 2 and all(name.startswith((".run.fverify-", ".cache.npy.fverify-")) for name in left)
    # Leftovers of a running process, another host, or an unknown writer are not touched.
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        kept = [f".x.fverify-{socket.gethostname()}-{alive.pid}.abc123.tmp",
                f".x.fverify-other-host-{killed_pid(left)}.abc123.tmp", ".x.q1w2e3.tmp"]
        for name in kept:
            (tmp_path / name).write_bytes(b"")
        write_json(tmp_path / "next.json", {})
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*kept, "next.json"])
    finally:
        alive.kill()
        alive.wait()


def killed_pid(names):
    return int(names[0].split(".tmp")[0].rsplit(".", 1)[0].rsplit("-", 1)[1])
