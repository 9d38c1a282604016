"""report.html in a real browser: headless Chromium renders it, and the render is checked to
hold every table row and every figure. (The page has no script at all, test_build checks, so
it reads the same with JavaScript off.)

The checks compare the page against the same page with the figures (then the tables) hidden by
``visibility: hidden``, which keeps the layout: what differs is exactly what they drew.
"""
import io
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from fverify.report.build import make_report

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no Chromium on PATH (Debian: apt-get install chromium)")
WIDTH, HEIGHT = 1400, 4000
RULE = (0x88, 0x88, 0x88)  # the colour of table row rules in the report's CSS
FRAME = 2  # px of border around each figure


def render(html_path: Path, png_path: Path, hide: str | None = None) -> np.ndarray:
    """Screenshot of the page (RGB array), optionally with the CSS selector ``hide`` hidden."""
    page = html_path
    if hide:
        page = html_path.with_name(f"hidden-{png_path.stem}.html")
        text = html_path.read_text().replace("</style>", f"{hide} {{ visibility: hidden; }}</style>", 1)
        page.write_text(text)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", "--force-device-scale-factor=1",
             f"--user-data-dir={profile}", f"--screenshot={png_path}", f"--window-size={WIDTH},{HEIGHT}",
             page.resolve().as_uri()],
            check=True, capture_output=True, timeout=120)
    import matplotlib.image

    return (matplotlib.image.imread(png_path)[:, :, :3] * 255).round().astype(np.uint8)


@pytest.fixture(scope="module")
def rendered(report_runs, tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser")
    done = make_report([str(report_runs[name]) for name in ("lfw-coarse", "lfw-fine", "ytf-coarse", "ytf-fine")],
                       folder / "report", baseline="models:coarse", formats=["html"])
    html = done.out / "report.html"
    return done, {name: render(html, folder / f"{name}.png", hide)
                  for name, hide in (("page", None), ("no-figures", "img"), ("no-tables", "table"))}


def test_the_page_fits_the_window_and_is_not_blank(rendered):
    _, shots = rendered
    page = shots["page"]
    assert page.shape == (HEIGHT, WIDTH, 3)
    assert np.all(page[-40:] == 255), "the page runs past the window: the render is cut"
    assert np.mean(page < 200) > 0.02  # text, rules and figures drew something


def test_every_figure_is_drawn_at_its_size(rendered):
    done, shots = rendered
    # Each figure's frame is a closed ring: filled, every figure is one solid region.
    drawn = ndimage.binary_fill_holes(np.any(shots["page"] != shots["no-figures"], axis=2))
    regions, count = ndimage.label(drawn)
    figures = done.report.figures
    assert count == len(figures) == 8
    boxes = sorted(ndimage.find_objects(regions), key=lambda box: (box[0].start, box[1].start))
    sizes = sorted((f.height + 2 * FRAME, f.width + 2 * FRAME) for f in figures)
    assert sorted((box[0].stop - box[0].start, box[1].stop - box[1].start) for box in boxes) == sizes
    pictures = [decode(figure.png) for figure in figures]
    for box in boxes:
        inside = shots["page"][box[0].start + FRAME:box[0].stop - FRAME, box[1].start + FRAME:box[1].stop - FRAME]
        # The browser drew a figure's own pixels, unscaled: one of the PNGs matches the region.
        assert any(picture.shape == inside.shape and np.abs(picture.astype(int) - inside).mean() < 2
                   for picture in pictures)
    assert all(np.ptp(picture.astype(int), axis=2).max() > 60 for picture in pictures)  # colour, not blank


def decode(png: bytes) -> np.ndarray:
    import matplotlib.image

    return (matplotlib.image.imread(io.BytesIO(png))[:, :, :3] * 255).round().astype(np.uint8)


def test_every_table_row_is_drawn(rendered):
    done, shots = rendered
    rule = np.all(shots["page"] == RULE, axis=2) & ~np.all(shots["no-tables"] == RULE, axis=2)
    lines = np.flatnonzero(rule.sum(axis=1) > 150)  # a rule spans a table's width
    drawn_rules = 1 + np.count_nonzero(np.diff(lines) > 1) if len(lines) else 0
    expected = sum(len(grid.rows) + 1 for _, grid in done.report.sections() if grid.rows)
    expected += len(done.report.runs_grid().rows) + 1  # every row has its rule, header included
    assert drawn_rules == expected
    text = np.any(shots["page"] != shots["no-tables"], axis=2) & np.all(shots["page"] < 100, axis=2)
    assert text.sum() > 2000  # the cells' text is drawn, not only the rules
