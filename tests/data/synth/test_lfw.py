import hashlib

import pytest

from fverify.data.synth import write_lfw
from fverify.errors import FverifyError

SMALL = dict(num_folds=3, pairs_per_fold=5, people_per_fold=6, max_images=4)


def tree_digest(root):
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + path.read_bytes())
    return digest.hexdigest()


def test_view2_format_folds_share_no_person_and_every_image_exists(tmp_path):
    counts = write_lfw(tmp_path / "lfw", seed=1, **SMALL)
    lines = (tmp_path / "lfw" / "pairs.txt").read_text().splitlines()
    assert lines[0] == "3\t5" and len(lines) == 1 + 3 * 10 and counts["pairs"] == 30
    people_per_fold = []
    for fold in range(3):
        block = [line.split("\t") for line in lines[1 + 10 * fold: 11 + 10 * fold]]
        assert all(len(f) == 3 for f in block[:5]) and all(len(f) == 4 for f in block[5:])
        images = [(f[0], f[1]) for f in block[:5]] + [(f[0], f[2]) for f in block[:5]]
        images += [(f[0], f[1]) for f in block[5:]] + [(f[2], f[3]) for f in block[5:]]
        for name, number in images:
            assert (tmp_path / "lfw" / name / f"{name}_{int(number):04d}.jpg").is_file()
        assert all(f[0] != f[2] for f in block[5:])
        people_per_fold.append({name for name, _ in images})
    assert not (people_per_fold[0] & people_per_fold[1] or people_per_fold[1] & people_per_fold[2])
    people = (tmp_path / "lfw" / "people.txt").read_text().splitlines()
    assert people[:2] == ["3", "6"] and len(people) == 1 + 3 * 7
    assert sum(1 for p in (tmp_path / "lfw").rglob("*.jpg")) == counts["images"]


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    write_lfw(tmp_path / "a", seed=4, **SMALL)
    write_lfw(tmp_path / "b", seed=4, **SMALL)
    write_lfw(tmp_path / "c", seed=5, **SMALL)
    assert tree_digest(tmp_path / "a") == tree_digest(tmp_path / "b")
    assert tree_digest(tmp_path / "a") != tree_digest(tmp_path / "c")


def test_png_option_and_refusals(tmp_path):
    write_lfw(tmp_path / "png", image_format="png", **SMALL)
    assert next((tmp_path / "png").rglob("*_0001.png"))
    with pytest.raises(FverifyError, match="not an empty folder"):
        write_lfw(tmp_path / "png", **SMALL)
    with pytest.raises(FverifyError, match="matched pairs"):
        write_lfw(tmp_path / "few", num_folds=1, pairs_per_fold=50, people_per_fold=2, max_images=2)
    assert not (tmp_path / "few").exists()


def test_the_lfw_adapter_reads_what_synth_writes(tmp_path):
    from fverify.protocols.lfw import load_lfw
    counts = write_lfw(tmp_path / "lfw", seed=3, image_format="png", **SMALL)
    evalset = load_lfw(tmp_path / "lfw", pairs=[tmp_path / "lfw" / "pairs.txt"])
    assert evalset.protocol.num_pairs == counts["pairs"] and evalset.protocol.num_folds == 3
    assert evalset.images.relative_paths[0].endswith(".png")
    assert evalset.images[0].shape == (112, 112, 3)
