import json

import pytest

from fverify.data.synth import cache as synth_cache
from fverify.data.synth.cache import cache_inputs, cached
from fverify.errors import FverifyError


def writer(calls):
    def write(path):
        calls.append(path)
        path.mkdir()
        (path / "made.txt").write_text(str(len(calls)))
    return write


def test_a_second_call_with_the_same_settings_reuses_the_entry(tmp_path):
    calls, lines = [], []
    first = cached(tmp_path, "lfw", {"seed": 1, "pairs": 3}, writer(calls), lines.append)
    second = cached(tmp_path, "lfw", {"pairs": 3, "seed": 1}, writer(calls), lines.append)
    assert first == second and len(calls) == 1 and (first / "made.txt").read_text() == "1"
    assert "rendering" in lines[0] and "cached" in lines[1]
    recorded = json.loads((first.parent / "entry.json").read_text())
    assert recorded == cache_inputs("lfw", {"seed": 1, "pairs": 3})


def test_any_changed_input_makes_another_entry(tmp_path, monkeypatch):
    calls = []
    entries = {cached(tmp_path, "lfw", {"seed": 1}, writer(calls), print),
               cached(tmp_path, "lfw", {"seed": 2}, writer(calls), print),
               cached(tmp_path, "ytf", {"seed": 1}, writer(calls), print)}
    monkeypatch.setattr(synth_cache, "synth_source_sha256", lambda: "edited renderer")
    entries.add(cached(tmp_path, "lfw", {"seed": 1}, writer(calls), print))
    assert len(entries) == 4 and len(calls) == 4


def test_an_entry_that_records_other_inputs_is_refused_not_used(tmp_path):
    entry = cached(tmp_path, "lfw", {"seed": 1}, writer([]), print).parent
    recorded = json.loads((entry / "entry.json").read_text())
    (entry / "entry.json").write_text(json.dumps({**recorded, "settings": {"seed": 2}}))
    with pytest.raises(FverifyError, match="does not hold what its name says") as error:
        cached(tmp_path, "lfw", {"seed": 1}, writer([]), print)
    assert str(entry) in str(error.value)


def test_a_failed_writer_leaves_no_entry(tmp_path):
    def fail(path):
        path.mkdir()
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        cached(tmp_path, "lfw", {"seed": 1}, fail, print)
    assert list(tmp_path.iterdir()) == []
