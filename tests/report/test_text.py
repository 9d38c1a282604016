import numpy as np

from fverify.metrics.compare import compare
from fverify.metrics.evaluation import evaluate
from fverify.report.text import comparison_lines, evaluation_lines, percent


def toy(shift):
    labels = np.tile([True, False], 50)
    scores = np.where(labels, 1.0, 0.0) + shift * np.sin(np.arange(100))
    return evaluate(scores, labels, np.repeat(np.arange(5), 20))


def test_percent_formats_fractions():
    assert percent(0.995) == "99.500%" and percent(-0.0012, signed=True) == "-0.120%"


def test_evaluation_lines_label_both_spreads_and_every_fold():
    lines = evaluation_lines(toy(0.8), fold_base=1)
    text = "\n".join(lines)
    assert "± is the standard error" in text and "ddof=0 (what insightface prints)" in text
    fold_rows = [line for line in lines if line.strip()[:1].isdigit()]
    assert [int(row.split()[0]) for row in fold_rows] == [1, 2, 3, 4, 5]
    assert "TAR@FAR=1e-6  unresolvable (n_neg=50)" in text


def test_a_fixed_split_prints_its_one_tested_fold_and_no_spread():
    labels = np.tile([True, False], 50)
    scores = np.where(labels, 1.0, 0.0) + 0.8 * np.sin(np.arange(100))
    evaluation = evaluate(scores, labels, np.repeat([0, 1], 50), test_fold=1)
    lines = evaluation_lines(evaluation, fold_base=1)
    text = "\n".join(lines)
    assert "fold 2 alone, threshold fitted on the other folds" in text and "±" not in text
    fold_rows = [line for line in lines if line.strip()[:1].isdigit()]
    assert len(fold_rows) == 1 and fold_rows[0].split()[0] == "2"
    assert "pooled ROC of the tested fold's pairs" in text and "TAR@FAR=1e-2  unresolvable (n_neg=25)" in text


def test_comparison_lines_state_the_test_and_its_verdict():
    lines = comparison_lines("a.csv", "b.csv", 100, compare(toy(0.3), toy(0.9)))
    assert lines[0] == "paired comparison: A = a.csv, B = b.csv"
    assert any("McNemar exact" in line for line in lines) and "difference at the 5% level" in lines[-1]
