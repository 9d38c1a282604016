"""The report's writers: Markdown, tidy CSV, LaTeX (booktabs) and self-contained HTML, each
rendering the same :class:`Report` (statistics, tidy table, figures); none computes a number."""
from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

from fverify import __version__
from fverify.atomic import atomic_open
from fverify.report.figures import Figure
from fverify.report.statistics import ReportStatistics
from fverify.report.tables import Grid, accuracy_grid, comparison_grid, protocol_grid

TITLE = "fverify report"


@dataclass(frozen=True, eq=False)
class Report:
    """Everything a writer renders, computed once."""

    statistics: ReportStatistics
    frame: pd.DataFrame
    figures: list[Figure]

    def sections(self) -> list[tuple[str, Grid]]:
        """The tables in reading order, each with its heading."""
        statistics = self.statistics
        sections = [("Accuracy (models x protocols)", accuracy_grid(self.frame, statistics))]
        sections += [(f"{column.protocol}: all metrics", protocol_grid(self.frame, statistics, column))
                     for column in statistics.columns]
        sections.append(("Paired comparisons", comparison_grid(statistics)))
        return sections

    def runs_grid(self) -> Grid:
        """Where each cell's numbers come from."""
        rows = [[row, protocol, str(run.result["model"].get("path") or "(scores file)"),
                 (run.result["model"].get("sha256") or "")[:12], str(run.source)]
                for (row, protocol), run in self.statistics.cells.items()]
        return Grid(["model", "protocol", "model file", "sha256 (first 12)", "run"], rows, [],
                    text_columns=(0, 1, 2, 3, 4))


def write_markdown(report: Report, path: Path) -> None:
    lines = [f"# {TITLE}", "", f"fverify {__version__}. Rates in percent; ± is the standard error.", ""]
    for heading, grid in [*report.sections(), ("Runs", report.runs_grid())]:
        lines += [f"## {heading}", "", *_markdown_table(grid), ""]
        lines += [f"- {note}" for note in grid.notes] + ([""] if grid.notes else [])
    notes = [f"- {note}" for note in report.statistics.training_notes]
    lines += ["## Figures", "", *notes, *([""] if notes else [])]
    for figure in report.figures:
        lines += [f"![{figure.title}]({figure.name})", "", f"*{figure.caption}*", ""]
    with atomic_open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))


def write_csv(report: Report, path: Path) -> None:
    with atomic_open(path, "w", encoding="utf-8", newline="") as handle:
        report.frame.to_csv(handle, index=False, lineterminator="\n")


def write_latex(report: Report, path: Path) -> None:
    """A standalone document (article class, booktabs), one table per section."""
    lines = [r"\documentclass{article}", r"\usepackage[T1]{fontenc}", r"\usepackage[utf8]{inputenc}",
             r"\usepackage{booktabs}", r"\usepackage{graphicx}", r"\usepackage[margin=1.5cm,landscape]{geometry}",
             r"\begin{document}", rf"\section*{{{_tex(TITLE)}}}"]
    for heading, grid in report.sections():
        if not grid.rows:
            lines += [rf"\subsection*{{{_tex(heading)}}}", *[_tex(note) + r"\par" for note in grid.notes]]
            continue
        lines += [r"\begin{table}[ht]", r"\centering", r"\scriptsize",
                  rf"\caption{{{_tex(heading)}}}",
                  r"\begin{tabular}{" + "".join(_alignments(grid, "l", "r")) + "}", r"\toprule",
                  " & ".join(_tex(cell) for cell in grid.header) + r" \\", r"\midrule",
                  *[" & ".join(_tex(cell) for cell in row) + r" \\" for row in grid.rows],
                  r"\bottomrule", r"\end{tabular}", r"\par\smallskip",
                  *[r"\parbox{0.9\linewidth}{\footnotesize " + _tex(note) + r"}\par" for note in grid.notes],
                  r"\end{table}"]
    for figure in report.figures:
        lines += [r"\begin{figure}[ht]", r"\centering",
                  rf"\includegraphics[width=0.6\linewidth]{{{figure.name}}}",
                  rf"\caption{{{_tex(figure.caption)}}}", r"\end{figure}"]
    lines.append(r"\end{document}")
    with atomic_open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


HTML_STYLE = """
body { font-family: sans-serif; margin: 24px; color: #111; background: #fff; max-width: 1400px; }
table { border-collapse: collapse; margin: 8px 0 4px 0; font-size: 14px; }
th, td { padding: 4px 10px; text-align: right; border-bottom: 1px solid #888888; }
th:first-child, td:first-child, td.t { text-align: left; }
th { background: #eeeeee; }
ul.notes { font-size: 12px; color: #333; margin-top: 2px; }
div.figures { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
figure { margin: 0; max-width: 620px; }
figure img { border: 2px solid #3060a0; max-width: 100%; height: auto; }
figcaption { font-size: 12px; }
"""


def write_html(report: Report, path: Path) -> None:
    """One file: inline CSS, figures as base64 PNG; no script, nothing fetched."""
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{html.escape(TITLE)}</title><style>{HTML_STYLE}</style></head><body>",
             f"<h1>{html.escape(TITLE)}</h1>",
             f"<p>fverify {html.escape(__version__)}. Rates in percent; ± is the standard error.</p>"]
    for heading, grid in [*report.sections(), ("Runs", report.runs_grid())]:
        parts += [f"<h2>{html.escape(heading)}</h2>", *_html_table(grid)]
    parts.append("<h2>Figures</h2>")
    parts += _html_table(Grid([], [], list(report.statistics.training_notes)))
    parts.append('<div class="figures">')
    for figure in report.figures:
        data = base64.b64encode(figure.png).decode("ascii")
        parts.append(f'<figure><img src="data:image/png;base64,{data}" width="{figure.width}" '
                     f'height="{figure.height}" alt="{html.escape(figure.title)}">'
                     f"<figcaption>{html.escape(figure.caption)}</figcaption></figure>")
    parts.append("</div></body></html>")
    with atomic_open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(parts) + "\n")


# Format name -> (file name, writer); the order is the order written.
WRITERS: dict[str, tuple[str, Callable[[Report, Path], None]]] = {
    "md": ("report.md", write_markdown),
    "csv": ("report.csv", write_csv),
    "tex": ("report.tex", write_latex),
    "html": ("report.html", write_html),
}


def _alignments(grid: Grid, text: str, number: str) -> list[str]:
    """Per column, ``text`` for a column of words, ``number`` for a column of numbers."""
    return [text if i in grid.text_columns else number for i in range(len(grid.header))]


def _markdown_table(grid: Grid) -> list[str]:
    if not grid.rows:
        return []
    cell = lambda text: text.replace("|", r"\|")  # noqa: E731 - a pipe would end the cell
    return ["| " + " | ".join(map(cell, grid.header)) + " |",
            "|" + "|".join(_alignments(grid, "---", "--:")) + "|",
            *["| " + " | ".join(map(cell, row)) + " |" for row in grid.rows]]


def _html_table(grid: Grid) -> list[str]:
    parts = []
    if grid.rows:
        parts.append("<table><thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in grid.header)
                     + "</tr></thead><tbody>")
        opening = _alignments(grid, '<td class="t">', "<td>")
        parts += ["<tr>" + "".join(f"{o}{html.escape(c)}</td>" for o, c in zip(opening, row)) + "</tr>"
                  for row in grid.rows]
        parts.append("</tbody></table>")
    if grid.notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{html.escape(n)}</li>" for n in grid.notes) + "</ul>")
    return parts


_TEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                "±": r"$\pm$", "≥": r"$\geq$"}


def _tex(text: str) -> str:
    return re.sub("|".join(map(re.escape, _TEX_SPECIAL)), lambda m: _TEX_SPECIAL[m.group()], text)
