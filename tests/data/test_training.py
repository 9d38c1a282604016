import numpy as np
import pytest
import torch

from fverify.data.images import encode_image
from fverify.data.synth import make_identities, render_images
from fverify.data.training import (
    TRAINING_SET_KINDS,
    open_training_set,
    synth_heldout_images,
    validate_training_set,
)
from fverify.errors import FverifyError
from tests.data.recordio_bytes import image_record, write_insightface_rec, write_rec

SIZE = (6, 5)


def face(value: int, size=SIZE) -> np.ndarray:
    """A small RGB image whose pixels say which one it is (PNG keeps them exactly)."""
    image = np.full((*size, 3), value, dtype=np.uint8)
    image[0, 0] = (value, 255 - value, 7)
    return image


def as_hwc(tensor: torch.Tensor) -> np.ndarray:
    return tensor.permute(1, 2, 0).numpy()


@pytest.fixture
def folder(tmp_path):
    """bob: 2 images, alice: 1, carl: 3 (one of them a .JPG), plus things that are not images."""
    root = tmp_path / "faces"
    for name, values in {"bob": [10, 11], "alice": [20], "carl": [30, 31, 32]}.items():
        (root / name).mkdir(parents=True)
        for number, value in enumerate(values):
            (root / name / f"{number:03d}.png").write_bytes(encode_image(face(value), "png"))
    (root / "carl" / "002.png").rename(root / "carl" / "002.JPG")  # extension case, PNG inside
    (root / "bob" / "notes.txt").write_text("not an image")
    (root / "empty").mkdir()
    (root / "README").write_text("top-level file")
    return root


def test_folders_are_identities_in_sorted_order(folder):
    dataset = open_training_set("folder", str(folder), input_size=SIZE)
    assert dataset.identity_names == ("alice", "bob", "carl")
    assert dataset.num_classes == 3 and len(dataset) == 6
    assert dataset.labels.dtype == np.int64 and dataset.labels.tolist() == [0, 1, 1, 2, 2, 2]
    expected_values = [20, 10, 11, 30, 31, 32]
    for index, value in enumerate(expected_values):
        image, label, returned_index = dataset[index]
        assert image.dtype == torch.uint8 and image.shape == (3, *SIZE) and image.is_contiguous()
        np.testing.assert_array_equal(as_hwc(image), face(value))
        assert (label, returned_index) == (dataset.labels[index], index)
    assert "folder" in dataset.source and "3 identities, 6 images, 6x5" in dataset.source
    ignored = {path.split("/")[-1]: why for path, why in dataset.ignored}
    assert set(ignored) == {"notes.txt", "empty", "README"}
    assert ignored["empty"] == "identity folder without images"


def test_validation_counts_and_names(folder):
    dataset = open_training_set("folder", str(folder), input_size=SIZE)
    report = validate_training_set(dataset)
    assert (report.num_identities, report.num_images) == (3, 6)
    assert report.single_image_identities == ["alice"]
    assert report.unreadable == []
    summary = report.summary()
    assert "3 identities, 6 images, 1 identities with one image (e.g. alice)" in summary
    assert "ignored: 3" in summary and "notes.txt: non-image file" in summary


def test_unreadable_image_is_label_minus_one_and_reported(folder):
    (folder / "carl" / "001.png").write_bytes(b"\x89PNG broken")
    (folder / "bob" / "001.png").write_bytes(b"")  # an empty file left by a broken download
    assert open_training_set("folder", str(folder), input_size=SIZE)[2][1] == -1
    (folder / "bob" / "001.png").write_bytes(encode_image(face(11), "png"))
    dataset = open_training_set("folder", str(folder), input_size=SIZE)
    image, label, index = dataset[4]
    assert label == -1 and index == 4 and image.shape == (3, *SIZE) and not image.any()
    with pytest.raises(FverifyError, match="001.png: cannot decode"):
        dataset.load(4)
    report = validate_training_set(dataset)
    assert [(where.split("/")[-1], why[:15]) for where, why in report.unreadable] == [
        ("001.png", "cannot decode t")]
    assert "unreadable (label -1 in training): 1" in report.summary()


def test_validation_of_a_sample_decodes_only_those_images(folder):
    (folder / "bob" / "001.png").write_bytes(b"\x89PNG broken")
    dataset = open_training_set("folder", str(folder), input_size=SIZE)
    broken = next(i for i in range(len(dataset)) if dataset.describe(i).endswith("bob/001.png"))
    others = [i for i in range(len(dataset)) if i != broken]
    without = validate_training_set(dataset, sample=np.array(others[:3]))
    assert without.unreadable == [] and without.num_decoded == 3
    assert "decoded a sample of 3 images" in without.summary()
    within = validate_training_set(dataset, sample=np.array([broken, others[-1]]))
    assert [where.split("/")[-1] for where, _ in within.unreadable] == ["001.png"]
    assert validate_training_set(dataset).num_decoded == 6


def test_a_wrongly_sized_image_stops_validation_naming_it(folder):
    (folder / "bob" / "001.png").write_bytes(encode_image(face(1, (7, 5)), "png"))
    dataset = open_training_set("folder", str(folder), input_size=SIZE)
    assert dataset[2][1] == -1
    with pytest.raises(FverifyError, match=r"1 images cannot be trained on: .*bob/001.png: 7x5, not 6x5"):
        validate_training_set(dataset)


def test_nothing_to_train_on_is_an_error(tmp_path, folder):
    (tmp_path / "none").mkdir()
    with pytest.raises(FverifyError, match="nothing to train on: 0 identities"):
        validate_training_set(open_training_set("folder", str(tmp_path / "none"), input_size=SIZE))
    for name in ("bob", "carl"):
        for path in (folder / name).iterdir():
            path.write_bytes(b"garbage")
    with pytest.raises(FverifyError, match="nothing to train on: 1 identities with readable images"):
        validate_training_set(open_training_set("folder", str(folder), input_size=SIZE))


@pytest.fixture
def rec(tmp_path):
    """An insightface file: identity 0 with images 40, 41; identity 1 with 50; identity 2 with
    60, 61, 62."""
    path = tmp_path / "train.rec"
    values = [[40, 41], [50], [60, 61, 62]]
    write_insightface_rec(path, [[encode_image(face(v), "png") for v in vs] for vs in values])
    return path


def test_recordio_labels_come_from_the_header_record(rec):
    dataset = open_training_set("recordio", str(rec), input_size=SIZE)
    assert dataset.num_classes == 3 and dataset.labels.tolist() == [0, 0, 1, 2, 2, 2]
    for index, value in enumerate([40, 41, 50, 60, 61, 62]):
        image, label, _ = dataset[index]
        np.testing.assert_array_equal(as_hwc(image), face(value))
        assert label == dataset.labels[index]
    assert "recordio (insightface header record)" in dataset.source
    report = validate_training_set(dataset)
    assert report.single_image_identities == ["1"] and report.unreadable == []


def test_recordio_without_header_numbers_the_labels_it_finds(tmp_path):
    path = tmp_path / "plain.rec"
    write_rec(path, [(0, image_record(9.0, encode_image(face(1), "png"))),
                     (1, image_record(5.0, encode_image(face(2), "png"))),
                     (2, image_record([9.0, 1.0], encode_image(face(3), "png")))])
    dataset = open_training_set("recordio", str(path), input_size=SIZE)
    assert dataset.identity_names == ("5", "9") and dataset.labels.tolist() == [1, 0, 1]
    np.testing.assert_array_equal(as_hwc(dataset[1][0]), face(2))


def test_a_corrupt_image_record_is_label_minus_one_and_named(rec):
    dataset = open_training_set("recordio", str(rec), input_size=SIZE)
    offsets = dict(line.split("\t") for line in rec.with_suffix(".idx").read_text().splitlines())
    offset = int(offsets["3"])
    blob = bytearray(rec.read_bytes())
    blob[offset:offset + 4] = b"XXXX"
    rec.write_bytes(bytes(blob))
    assert dataset[2][1] == -1 and dataset[3][1] == 2
    report = validate_training_set(dataset)
    assert len(report.unreadable) == 1
    where, why = report.unreadable[0]
    assert where.endswith(f"train.rec[key 3 @ offset {offset}, part at {offset}]")
    assert why.startswith("bad magic number")


def test_records_that_contradict_the_identity_ranges_stop_validation(tmp_path):
    path = tmp_path / "train.rec"
    image = encode_image(face(1), "png")
    write_rec(path, [(1, image_record([0.0, 0.0], image)), (2, image_record([0.0, 0.0], image)),
                     (0, image_record([3.0, 5.0], b"")),
                     (3, image_record([1.0, 2.0], b"")), (4, image_record([2.0, 3.0], b""))])
    dataset = open_training_set("recordio", str(path), input_size=SIZE)
    assert dataset.labels.tolist() == [0, 1]
    with pytest.raises(FverifyError, match="record states label 0, the header record's identity ranges say 1"):
        validate_training_set(dataset)


def test_data_loader_workers_read_the_same_samples(rec):
    dataset = open_training_set("recordio", str(rec), input_size=SIZE)
    dataset.records.read(1)  # an open descriptor in this process must not leak into workers
    inline = list(torch.utils.data.DataLoader(dataset, batch_size=4))
    forked = list(torch.utils.data.DataLoader(dataset, batch_size=4, num_workers=2,
                                              multiprocessing_context="fork"))
    for (a_images, a_labels, a_index), (b_images, b_labels, b_index) in zip(inline, forked):
        assert torch.equal(a_images, b_images) and torch.equal(a_labels, b_labels)
        assert torch.equal(a_index, b_index)
    report = validate_training_set(dataset, workers=2)
    assert (report.num_images, report.unreadable) == (6, [])


def test_synthetic_identities_are_deterministic_and_have_held_out_images():
    settings = dict(synth_identities=3, synth_images_per_identity=2, synth_seed=5)
    dataset = open_training_set("synth", None, **settings)
    again = open_training_set("synth", None, **settings)
    assert dataset.labels.tolist() == [0, 0, 1, 1, 2, 2] and dataset.num_classes == 3
    images = torch.stack([dataset[i][0] for i in range(len(dataset))])
    assert torch.equal(images, torch.stack([again[i][0] for i in range(len(again))]))
    # Image j of a person depends on j only: a longer set starts with the same images, and the
    # held-out images are the ones after the training images.
    longer = open_training_set("synth", None, synth_identities=3, synth_images_per_identity=3,
                               synth_seed=5)
    heldout, heldout_labels = synth_heldout_images(1, **settings)
    assert heldout_labels.tolist() == [0, 1, 2]
    for person in range(3):
        np.testing.assert_array_equal(as_hwc(longer[3 * person][0]), as_hwc(dataset[2 * person][0]))
        np.testing.assert_array_equal(heldout[person], as_hwc(longer[3 * person + 2][0]))
        assert not np.array_equal(heldout[person], as_hwc(dataset[2 * person + 1][0]))
    other_seed = render_images(make_identities(1, 6)[0], 1, seed=6)[0]
    assert not np.array_equal(other_seed, as_hwc(dataset[0][0]))
    assert "synth(seed 5)[identity 1, image 1]" == dataset.describe(3)


def test_open_training_set_checks_its_arguments(tmp_path):
    with pytest.raises(FverifyError, match="unknown training data kind 'lmdb'") as error:
        open_training_set("lmdb", "x")
    assert ", ".join(TRAINING_SET_KINDS) in str(error.value)
    with pytest.raises(FverifyError, match="kind 'recordio' needs a path"):
        open_training_set("recordio", None)
    with pytest.raises(FverifyError, match="generated, not read"):
        open_training_set("synth", "somewhere")
    with pytest.raises(FverifyError, match="synthetic faces are 112x112"):
        open_training_set("synth", None, input_size=(96, 96))
    with pytest.raises(FverifyError, match="not \\(height, width\\)"):
        open_training_set("folder", str(tmp_path), input_size=(112,))
    with pytest.raises(FverifyError, match="training image folder not found"):
        open_training_set("folder", str(tmp_path / "missing"))
    with pytest.raises(FverifyError, match="RecordIO file not found"):
        open_training_set("recordio", str(tmp_path / "train.rec"))
