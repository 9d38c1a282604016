from fverify.bench.precision import run, summary


def test_small_run_reports_consistent_figures():
    figures = run(dtype="bfloat16", arch="mobilefacenet", pairs_per_fold=4, progress=False)
    assert figures["pairs"] == 80 and figures["folds"] == 10
    assert figures["changed_decisions"] == round((1 - figures["agreement"]) * 80)
    assert 0 <= figures["accuracy_gap_pairs"] <= figures["changed_decisions"]
    assert 0 < figures["max_score_change"] < 0.05
    assert figures["passed"] == (figures["agreement"] >= 0.999 and figures["accuracy_gap_pairs"] <= 1)
    text = summary(figures)
    assert "same decisions" in text and ("PASS" in text or "FAIL" in text)
