"""Wall-clock timing shared by the benches: the best of several runs, the least disturbed by
other work on a shared machine."""
from __future__ import annotations

import time
from collections.abc import Callable


def best_seconds(work: Callable[[], object], repeats: int, warm_up: bool = True) -> float:
    """Fastest of ``repeats`` timed calls of ``work``, in seconds; ``warm_up`` first makes one
    untimed call (thread pools, kernel selection, the page cache)."""
    if warm_up:
        work()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best
