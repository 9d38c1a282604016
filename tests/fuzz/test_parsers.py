"""Fuzz every file parser: mutants of valid files are accepted or refused with FverifyError,
nothing else. Seeded and bounded; ``FVERIFY_FUZZ_INPUTS`` raises the count per parser (the
long campaign: ``python -m tests.fuzz.campaign``)."""
import os

import pytest

from fverify.errors import FverifyError
from tests.fuzz.harness import fuzz
from tests.fuzz.targets import TARGETS

INPUTS = int(os.environ.get("FVERIFY_FUZZ_INPUTS", "300"))


@pytest.mark.parametrize("target", TARGETS, ids=lambda target: target.name)
def test_the_valid_files_are_accepted(target, tmp_path):
    for content in target.prepare(tmp_path):
        path = tmp_path / f"valid{target.suffix}"
        path.write_bytes(content)
        try:
            target.parse(path, tmp_path)
        except FverifyError as error:
            pytest.fail(f"a valid {target.name} file is refused: {error}")


@pytest.mark.parametrize("target", TARGETS, ids=lambda target: target.name)
def test_only_fverify_errors_escape(target, tmp_path):
    report = fuzz(target, INPUTS, seed=0, workdir=tmp_path)
    assert report.inputs == INPUTS
    assert not report.failures, "\n".join(map(str, report.distinct_failures().values()))
    # the mutants reach both outcomes: the fuzz tests the checks, not just the first byte
    assert report.accepted > 0 and report.refused > 0
