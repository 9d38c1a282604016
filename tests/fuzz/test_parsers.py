"""Fuzz every file parser: mutants of valid files are accepted or refused with FverifyError,
nothing else. Seeded and bounded; ``FVERIFY_FUZZ_INPUTS`` raises the count per parser (the
long campaign: ``python -m tests.fuzz.campaign``)."""
import importlib.util
import os

import pytest

from fverify.errors import FverifyError
from tests.fuzz.harness import fuzz
from tests.fuzz.targets import TARGETS

INPUTS = int(os.environ.get("FVERIFY_FUZZ_INPUTS", "300"))
# Transitional, for branch h1-parsers alone: these parsers read integers through the shared
# field parser, whose >4,300-digit ValueError (and, in scores.py, the csv module's field-size
# _csv.Error and a 2**63 fold id's OverflowError) issue 8 assigns to branch h2-scores, which
# moves the parser to fverify/fields.py. Once that is merged this condition is False and the
# marker must be deleted.
_H2_PENDING = importlib.util.find_spec("fverify.fields") is None
_NEEDS_H2 = {"lfw_pairs", "ytf_splits", "pairs_csv", "scores_csv"}


@pytest.mark.parametrize("target", TARGETS, ids=lambda target: target.name)
def test_the_valid_files_are_accepted(target, tmp_path):
    for content in target.prepare(tmp_path):
        path = tmp_path / f"valid{target.suffix}"
        path.write_bytes(content)
        try:
            target.parse(path, tmp_path)
        except FverifyError as error:
            pytest.fail(f"a valid {target.name} file is refused: {error}")


@pytest.mark.parametrize("target", [
    pytest.param(target, marks=pytest.mark.xfail(
        _H2_PENDING and target.name in _NEEDS_H2, strict=False,
        reason="integer and CSV field limits are fixed on branch h2-scores"))
    for target in TARGETS], ids=lambda target: target.name)
def test_only_fverify_errors_escape(target, tmp_path):
    report = fuzz(target, INPUTS, seed=0, workdir=tmp_path)
    assert report.inputs == INPUTS
    assert not report.failures, "\n".join(map(str, report.distinct_failures().values()))
    # the mutants reach both outcomes: the fuzz tests the checks, not just the first byte
    assert report.accepted > 0 and report.refused > 0
