from fverify.bench.timing import best_seconds


def test_best_of_repeats_after_one_untimed_warm_up():
    calls = []
    seconds = best_seconds(lambda: calls.append(1), repeats=3)
    assert len(calls) == 4 and 0 <= seconds < 1
    calls.clear()
    best_seconds(lambda: calls.append(1), repeats=3, warm_up=False)
    assert len(calls) == 3
