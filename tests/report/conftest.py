"""Runs made by the real run path (``fverify lfw|ytf --model``) on synthetic data, shared by
the report tests; read-only."""
import pytest

from fverify.cli import main

MODELS = '''
import numpy as np

def coarse(faces):
    """Raw pixels on a coarse grid, centred: a weak but honest face descriptor."""
    small = faces[:, ::8, ::8, :].reshape(len(faces), -1).astype(np.float32)
    return small - small.mean(axis=1, keepdims=True)

def fine(faces):
    """The same on a finer grid."""
    small = faces[:, ::4, ::4, :].reshape(len(faces), -1).astype(np.float32)
    return small - small.mean(axis=1, keepdims=True)

def noise(faces):
    """An embedding that ignores the face: a fixed random vector per image content."""
    seeds = [int(f.sum()) for f in faces]
    return np.stack([np.random.default_rng(s).normal(size=16) for s in seeds]).astype(np.float32)
'''

RUN_FLAGS = ["--no-progress", "--workers", "0", "--batch-size", "16", "--no-cache"]


def protocol_run(protocol, data, model, out, *extra):
    source = ["--pairs", str(data / "pairs.txt")] if protocol == "lfw" else ["--splits", str(data / "splits.txt")]
    assert main([protocol, "--data", str(data), *source, "--model", model, "--out", str(out),
                 *RUN_FLAGS, *extra]) == 0


@pytest.fixture(scope="session")
def report_runs(synth_lfw, synth_ytf, tmp_path_factory):
    """Run folders by name: ``lfw-coarse``, ``lfw-fine``, ``lfw-noise``, ``ytf-coarse``,
    ``ytf-fine`` (model ``models:<function>``), and the ``models`` folder."""
    root = tmp_path_factory.mktemp("report-runs")
    (root / "models").mkdir()
    (root / "models" / "models.py").write_text(MODELS)
    runs = {"models": root / "models"}
    for protocol, data, functions in (("lfw", synth_lfw, ("coarse", "fine", "noise")),
                                      ("ytf", synth_ytf, ("coarse", "fine"))):
        for function in functions:
            out = root / f"{protocol}-{function}"
            protocol_run(protocol, data, f"{root / 'models' / 'models.py'}:{function}", out)
            runs[f"{protocol}-{function}"] = out
    return runs


@pytest.fixture
def axes():
    """A fresh matplotlib Axes (Agg backend), closed after the test."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots()
    yield axes
    plt.close(figure)
