"""Suite-wide test settings and shared synthetic data."""
import pytest
from hypothesis import settings

from fverify.data.synth import write_lfw, write_ytf

# The same examples on every run and machine (CI must be deterministic), and no per-example
# deadline: a shared 2-core machine makes wall-clock deadlines flaky.
settings.register_profile("fverify", derandomize=True, deadline=None)
settings.load_profile("fverify")


@pytest.fixture(scope="session")
def synth_lfw(tmp_path_factory):
    """A small synthetic LFW tree (3 folds x (5 + 5) pairs) with its pairs.txt; read-only."""
    root = tmp_path_factory.mktemp("synth") / "lfw"
    write_lfw(root, num_folds=3, pairs_per_fold=5, people_per_fold=6, max_images=4, seed=7)
    return root


@pytest.fixture(scope="session")
def synth_ytf(tmp_path_factory):
    """A small synthetic YTF tree (2 splits x (3 + 3) pairs) with its splits.txt; read-only."""
    root = tmp_path_factory.mktemp("synth") / "ytf"
    write_ytf(root, num_splits=2, pairs_per_split=3, people_per_split=4, max_frames=5, seed=7)
    return root
