import numpy as np
import pytest

from fverify.data.synth.folders import write_identity_folders
from fverify.data.training import SynthSet, open_training_set
from fverify.errors import FverifyError


def test_the_folder_holds_the_pictures_synth_renders_in_the_same_order(tmp_path):
    counts = write_identity_folders(tmp_path / "train", num_identities=3, images_per_identity=2, seed=5)
    assert counts == {"identities": 3, "images": 6}
    folder = open_training_set("folder", str(tmp_path / "train"))
    rendered = SynthSet(3, 2, 5, (112, 112))
    assert folder.labels.tolist() == rendered.labels.tolist() == [0, 0, 1, 1, 2, 2]
    for index in range(6):
        # the same picture up to JPEG (quality 95; the renderer adds pixel noise, which JPEG smooths):
        # a mean error of a few grey levels, far below the difference to another face
        error = np.abs(folder.decode(index).astype(int) - rendered.decode(index).astype(int)).mean()
        other = np.abs(folder.decode(index).astype(int) - rendered.decode((index + 2) % 6).astype(int)).mean()
        assert error < 8 and other > 3 * error


def test_too_small_is_refused_and_nothing_is_written(tmp_path):
    with pytest.raises(FverifyError, match="too small"):
        write_identity_folders(tmp_path / "train", num_identities=1, images_per_identity=2)
    assert not (tmp_path / "train").exists()
