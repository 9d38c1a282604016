import shutil

import numpy as np
import pytest

from fverify.errors import FverifyError
from fverify.protocols.official import official_path
from fverify.protocols.ytf import frame_number, load_ytf, parse_splits


def test_official_splits_have_the_published_counts():
    protocol = parse_splits(official_path("ytf/splits.txt"))
    assert protocol.num_pairs == 5000 and protocol.num_folds == 10
    assert protocol.item_kind == "video" and len(protocol.items) == 3226
    assert len({video.split("/")[0] for video in protocol.items}) == 1447
    expected = np.tile(np.r_[np.ones(250, bool), np.zeros(250, bool)], 10)
    np.testing.assert_array_equal(protocol.labels, expected)
    np.testing.assert_array_equal(protocol.folds, np.repeat(np.arange(10), 500))
    assert protocol.fold_rule == "the split column of the file (splits 1..k)"
    assert [protocol.items[i] for i in protocol.pairs[0]] == ["Sadie_Frost/1", "Sadie_Frost/5"]
    people = [{protocol.items[i].split("/")[0] for i in protocol.pairs[protocol.folds == f].ravel()}
              for f in range(10)]
    assert sum(map(len, people)) == len(set().union(*people))  # splits share no person


def write(tmp_path, rows, header="anything at all, even 1, 1, A/1, A/2, 1"):
    path = tmp_path / "splits.txt"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


ROWS = ["1, 1, A/1, A/2, 1", "1, 2, A/1, B/0, 0", "2, 1, C/3, C/4, 1", "2, 2, C/3, D/1, 0"]


def test_header_skipped_whitespace_and_a_trailing_label_column_tolerated(tmp_path):
    rows = ["1 ,1,  A/1 ,A/2,1", "1, 2, A/1, B/0, 0, different", "", ROWS[2], ROWS[3] + ", same"]
    protocol = parse_splits(write(tmp_path, rows))
    assert protocol.items == ("A/1", "A/2", "B/0", "C/3", "C/4", "D/1")
    assert protocol.labels.tolist() == [True, False, True, False]
    assert protocol.folds.tolist() == [0, 0, 1, 1]


@pytest.mark.parametrize("bad, message", [
    ("1, 2, A/1, B/0, 0, x, y", "expected 5 comma-separated fields"),
    ("1, 2, A/1, B/0", "found 4"),
    ("one, 2, A/1, B/0, 0", "must be positive integers"),
    ("², 2, A/1, B/0, 0", "must be positive integers"),
    ("1, ², A/1, B/0, 0", "must be positive integers"),
    ("--1, 2, A/1, B/0, 0", "must be positive integers"),
    ("1, 2, A, B/0, 0", "video 'A' is not 'Name/video'"),
    ("1, 2, A/1/x, B/0, 0", "is not 'Name/video'"),
    ("1, 2, ../1, B/0, 0", "video '../1' is not 'Name/video'"),
    ("1, 2, A/.., B/0, 0", "video 'A/..' is not 'Name/video'"),
    ("1, 2, A/1, ./0, 0", "video './0' is not 'Name/video'"),
    ("1, 2, A/1, B\\..\\x/0, 0", "is not 'Name/video'"),
    ("1, 2, A/1, B/0, 2", "is_same must be 0 or 1"),
])
def test_bad_rows_name_file_and_line(tmp_path, bad, message):
    with pytest.raises(FverifyError, match=message) as caught:
        parse_splits(write(tmp_path, [ROWS[0], bad, *ROWS[2:]]))
    assert caught.value.where.endswith("splits.txt:3")


@pytest.mark.parametrize("split", ["5", "9" * 18])
def test_a_split_id_beyond_the_number_of_rows_is_refused_at_its_line(tmp_path, split):
    with pytest.raises(FverifyError, match=f"split {split} is out of range: the file has 4 rows "
                       "after the header") as caught:
        parse_splits(write(tmp_path, [*ROWS[:3], f"{split}, 2, C/3, D/1, 0"]))
    assert caught.value.where.endswith("splits.txt:5")
    # 4 is within 4 rows: it passes this check and fails only as a gap in the split ids
    with pytest.raises(FverifyError, match=r"fold ids must be 0..k-1 with none missing; found \[0, 1, 3\]"):
        parse_splits(write(tmp_path, [*ROWS[:3], "4, 2, C/3, D/1, 0"]))


def test_a_video_name_too_long_for_the_file_system_is_an_error_not_a_traceback(tmp_path):
    long_name = "A" * 300
    splits = write(tmp_path, [f"1, 1, {long_name}/1, A/2, 1", *ROWS[1:]])
    with pytest.raises(FverifyError, match=f"cannot list the frames of video '{long_name}/1': "
                       "File name too long"):
        load_ytf(tmp_path, splits)


def test_only_a_header_is_an_error(tmp_path):
    with pytest.raises(FverifyError, match="no pair rows"):
        parse_splits(write(tmp_path, []))


def make_videos(root, frames_by_video, name="aligned_detect_{video}.{frame}.jpg"):
    for video, frames in frames_by_video.items():
        folder = root / video
        folder.mkdir(parents=True, exist_ok=True)
        for frame in frames:
            (folder / name.format(video=video.split("/")[1], frame=frame)).touch()


VIDEOS = {"A/1": [9, 10, 8, 100, 11], "A/2": [1], "B/0": [3, 2], "C/3": [5], "C/4": [7], "D/1": [1, 2]}


def test_frames_are_ordered_by_number_not_by_name(tmp_path):
    make_videos(tmp_path / "ytf" / "aligned_images_DB", VIDEOS)
    evalset = load_ytf(tmp_path / "ytf", splits=write(tmp_path, ROWS))
    first = [path.rsplit("/", 1)[1] for path in evalset.images.relative_paths[:5]]
    assert first == [f"aligned_detect_1.{n}.jpg" for n in (8, 9, 10, 11, 100)]
    assert evalset.images.relative_paths[0] == "aligned_images_DB/A/1/aligned_detect_1.8.jpg"
    assert evalset.image_item.tolist() == [0] * 5 + [1] + [2] * 2 + [3] + [4] + [5] * 2
    assert evalset.frames_per_item().tolist() == [5, 1, 2, 1, 1, 2]
    assert "differs from the official ytf/splits.txt" in evalset.warnings[0]


def test_plain_layout_of_numbered_frames(tmp_path):
    make_videos(tmp_path / "frames", VIDEOS, name="{frame:04d}.png")
    evalset = load_ytf(tmp_path / "frames", splits=write(tmp_path, ROWS))
    assert evalset.images.relative_paths[:3] == ("A/1/0008.png", "A/1/0009.png", "A/1/0010.png")
    assert evalset.data_root == str(tmp_path / "frames")


def test_absent_and_empty_videos_are_listed_together(tmp_path):
    videos = dict(VIDEOS, **{"C/4": []})
    del videos["B/0"]
    make_videos(tmp_path / "ytf" / "aligned_images_DB", videos)
    (tmp_path / "ytf" / "aligned_images_DB" / "C" / "4" / "notes.txt").touch()  # not a frame
    with pytest.raises(FverifyError) as caught:
        load_ytf(tmp_path / "ytf", splits=write(tmp_path, ROWS))
    message = str(caught.value)
    assert "1 of 6 videos are absent (no folder):\n    B/0" in message
    assert "1 of 6 videos are empty (no frames):\n    C/4" in message


def test_frames_without_a_number_are_refused(tmp_path):
    make_videos(tmp_path / "ytf", VIDEOS)
    (tmp_path / "ytf" / "A" / "1" / "cover.jpg").touch()
    with pytest.raises(FverifyError, match=r"A/1: no frame number in cover.jpg"):
        load_ytf(tmp_path / "ytf", splits=write(tmp_path, ROWS))


def test_frame_number_is_the_last_run_of_digits():
    assert frame_number("aligned_detect_3.125.jpg") == 125
    assert frame_number("0007.png") == 7
    assert frame_number("frame.jpg") is None


def test_synthetic_ytf_loads(synth_ytf, tmp_path):
    evalset = load_ytf(synth_ytf, splits=synth_ytf / "splits.txt")
    assert evalset.protocol.num_pairs == 12 and evalset.protocol.num_folds == 2
    db = synth_ytf / "aligned_images_DB"
    assert len(evalset.images) == sum(len(list((db / v).iterdir())) for v in evalset.protocol.items)
    assert evalset.images[0].shape == (112, 112, 3)
    # shipped splits by default: the synthetic tree lacks the real videos, all are reported
    with pytest.raises(FverifyError, match="3226 of 3226 videos are absent"):
        load_ytf(synth_ytf)
    with pytest.raises(FverifyError, match="does not exist"):
        load_ytf(tmp_path / "nowhere", splits=synth_ytf / "splits.txt")
    copy = tmp_path / "copy"
    shutil.copytree(synth_ytf / "aligned_images_DB", copy)
    assert load_ytf(copy, splits=synth_ytf / "splits.txt").num_images == evalset.num_images


def test_one_split_is_refused_with_ytf_advice(tmp_path):
    with pytest.raises(FverifyError) as caught:
        parse_splits(write(tmp_path, ROWS[:2]))
    message = str(caught.value)
    assert "splits.txt: all 2 pairs are in one fold" in message
    assert "use an intact copy of splits.txt" in message and "fold column" not in message
