import re

from fverify.data.synth import write_ytf

SMALL = dict(num_splits=2, pairs_per_split=3, people_per_split=4, max_frames=5)


def test_splits_format_and_frame_tree(tmp_path):
    counts = write_ytf(tmp_path / "ytf", seed=2, **SMALL)
    lines = (tmp_path / "ytf" / "splits.txt").read_text().splitlines()
    assert len(lines) == 1 + 12 and counts["pairs"] == 12
    rows = [line.split(", ") for line in lines[1:]]
    assert [int(r[0]) for r in rows] == [1] * 6 + [2] * 6
    assert [int(r[1]) for r in rows] == [1, 2, 3, 4, 5, 6] * 2
    assert [r[4] for r in rows] == ["1"] * 3 + ["0"] * 3 + ["1"] * 3 + ["0"] * 3
    for split, pair, first, second, same in rows:
        assert (first.split("/")[0] == second.split("/")[0]) == (same == "1")
        for video in (first, second):
            name, number = video.split("/")
            frames = list((tmp_path / "ytf" / "aligned_images_DB" / name / number).iterdir())
            assert len(frames) >= 4
            assert all(re.fullmatch(rf"aligned_detect_{number}\.\d+\.jpg", f.name) for f in frames)
    people = [{r[2].split("/")[0] for r in rows[s * 6:(s + 1) * 6]} for s in range(2)]
    assert not people[0] & people[1]
    assert sum(1 for _ in (tmp_path / "ytf").rglob("*.jpg")) == counts["frames"]


def test_same_seed_same_splits(tmp_path):
    write_ytf(tmp_path / "a", seed=3, **SMALL)
    write_ytf(tmp_path / "b", seed=3, **SMALL)
    assert (tmp_path / "a" / "splits.txt").read_bytes() == (tmp_path / "b" / "splits.txt").read_bytes()


def test_the_ytf_adapter_reads_what_synth_writes(tmp_path):
    from fverify.protocols.ytf import load_ytf
    counts = write_ytf(tmp_path / "ytf", seed=3, **SMALL)
    evalset = load_ytf(tmp_path / "ytf", splits=tmp_path / "ytf" / "splits.txt")
    assert evalset.protocol.num_pairs == counts["pairs"] and evalset.protocol.num_folds == 2
    assert evalset.frames_per_item().min() >= 4
