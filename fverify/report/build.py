"""``fverify report``: runs in, a report folder out (statistics once, then every writer)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from fverify.atomic import atomic_directory, atomic_open, check_new_directory
from fverify.errors import FverifyError
from fverify.report.figures import Figure, draw_figures
from fverify.report.runs import load_runs, load_training_metrics
from fverify.report.statistics import build_statistics
from fverify.report.tables import tidy_frame
from fverify.report.writers import WRITERS, Report


@dataclass(frozen=True, eq=False)
class WrittenReport:
    report: Report
    out: Path
    files: list[str]


def make_report(inputs: Sequence[str], out: str | Path, *, formats: Sequence[str] = tuple(WRITERS),
                baseline: str | None = None, names: Mapping[str, str] | None = None,
                show_std: bool = False, extra_figures: Sequence[Figure] = ()) -> WrittenReport:
    """Read the runs, compute the statistics, draw the figures and write the chosen formats
    (keys of WRITERS) and the figure PNGs into ``out``, which must be new or empty: it is
    checked before any work and written as a whole or not at all. ``extra_figures`` (drawn by
    the caller, e.g. :func:`fverify.report.figures.likelihood_figure`) follow the report's own."""
    unknown = [name for name in formats if name not in WRITERS]
    if unknown or not formats:
        raise FverifyError(f"unknown report format {unknown[0]!r}" if unknown else "no report format chosen",
                           fix=f"choose among {','.join(WRITERS)}")
    out = Path(out)
    check_new_directory(out)
    runs = load_runs(inputs, names)
    training, training_notes = load_training_metrics(runs)
    statistics = build_statistics(runs, baseline=baseline, show_std=show_std, training=training,
                                  training_notes=training_notes)
    report = Report(statistics, tidy_frame(statistics), [*draw_figures(statistics), *extra_figures])
    written = []
    with atomic_directory(out) as staging:
        for figure in report.figures:
            with atomic_open(staging / figure.name, "wb") as handle:
                handle.write(figure.png)
            written.append(figure.name)
        for name in dict.fromkeys(formats):
            file_name, write = WRITERS[name]
            write(report, staging / file_name)
            written.append(file_name)
    return WrittenReport(report, out, written)
