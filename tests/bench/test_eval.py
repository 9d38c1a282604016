from fverify.bench.eval import bench_eval


def test_report_times_every_method_and_states_the_checks():
    report, figures = bench_eval([600, 2000], repeats=1)
    for size in ("600", "2,000"):
        assert f"{size:>10}  insightface loop (slices per threshold)" in report
    for method in ("insightface loop, sliced once per fold", "fverify grid (vectorised)", "fverify exact",
                   "fverify evaluate CSV --json (whole command)"):
        assert report.count(method) == 2
    assert report.count("vectorised grid and lean loop identical to the loop: yes") == 2
    assert report.count("exact training accuracy >= grid in every fold: yes") == 2
    # The command's JSON gives, through its CSV, exactly what the in-memory search gives.
    assert report.count("identical to the in-memory exact search: yes") == 2
    assert report.count("lean loop time / command time = ") == 2
    assert report.count("speed-up of exact:") == 2 and "load average" in report
    assert [size["pairs"] for size in figures["sizes"]] == [600, 2000]
    assert all(size["grid_identical_to_loop"] and size["exact_train_accuracy_never_below_grid"]
               and size["command_identical_to_exact"] for size in figures["sizes"])
