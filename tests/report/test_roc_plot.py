import numpy as np

from fverify.metrics.evaluation import evaluate
from fverify.report.roc_plot import plot_roc


def test_plot_is_a_png_written_atomically(tmp_path):
    rng = np.random.default_rng(0)
    labels = np.tile([True, False], 100)
    scores = rng.normal(size=200) + labels
    folds = np.repeat(np.arange(10), 20)
    path = tmp_path / "roc.png"
    plot_roc(evaluate(scores, labels, folds), path, title="toy")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["roc.png"]
