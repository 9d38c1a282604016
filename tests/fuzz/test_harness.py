import random

from fverify.errors import FverifyError
from tests.fuzz.harness import Target, fuzz, mutate


def test_a_mutant_is_a_function_of_its_seed():
    data = b"10\t300\nAaron\t1\t2\n"
    first = [mutate(data, random.Random(f"s:{i}")) for i in range(50)]
    assert first == [mutate(data, random.Random(f"s:{i}")) for i in range(50)]
    assert len(set(first)) > 40 and data not in first[:5]


def _picky(path, workdir):
    data = path.read_bytes()
    if b"\x00" in data:
        raise ValueError("a NUL")
    if len(data) % 2:
        raise FverifyError("odd length")


def test_anything_but_fverify_error_is_a_failure_with_its_input_kept(tmp_path):
    target = Target("picky", ".txt", lambda workdir: [b"abcdefgh\n" * 4], _picky)
    report = fuzz(target, 400, seed=3, workdir=tmp_path)
    assert report.inputs == 400 == report.accepted + report.refused + len(report.failures)
    assert report.accepted and report.refused and report.failures
    for failure in report.failures:
        assert b"\x00" in failure.input.read_bytes()
        assert failure.error == "ValueError: a NUL" and failure.location.startswith("test_harness.py:")
    assert list(report.distinct_failures()) == [("ValueError", report.failures[0].location)]
    # the same seed replays the same mutants
    again = fuzz(target, 400, seed=3, workdir=tmp_path / "again")
    assert (again.accepted, again.refused, len(again.failures)) == (
        report.accepted, report.refused, len(report.failures))
