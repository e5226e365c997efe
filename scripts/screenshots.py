"""Pictures of the report to look at: PDF pages as PNG and the HTML in headless Chromium.

Usage::

    .venv/bin/python scripts/screenshots.py REPORT_DIR OUT_DIR [--dpi 60]

REPORT_DIR is what ``mediamix report MODEL --plan plan.json --out DIR --pdf``
wrote. OUT_DIR receives ``pdf-<n>.png`` (one per PDF page, ``pdftoppm`` from
Debian's poppler-utils) and ``html-1440x900.png`` / ``html-390x844.png`` (the
top of the HTML report at a desktop and a phone viewport, Debian's
``chromium``). Other pages (the dashboard) can be added to ``VIEWS``.
Nothing is fetched from the network: the report is a local file.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

#: viewport sizes (width, height) of the HTML screenshots
VIEWPORTS = ((1440, 900), (390, 844))
#: HTML pages of a report folder to screenshot, by name
VIEWS = {"html": "report.html"}


def pdf_pages(pdf: Path, out: Path, dpi: int) -> list[Path]:
    """Render every page of ``pdf`` to ``out/pdf-<n>.png``."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        raise SystemExit("pdftoppm is missing: install Debian's poppler-utils (make system)")
    subprocess.run([tool, "-r", str(dpi), "-png", str(pdf), str(out / "pdf")], check=True)
    return sorted(out.glob("pdf-*.png"))


def html_views(folder: Path, out: Path) -> list[Path]:
    """Screenshot each page of ``VIEWS`` at each of ``VIEWPORTS`` in headless Chromium."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("chromium is missing: install Debian's chromium")
    shots = []
    for name, page in VIEWS.items():
        for width, height in VIEWPORTS:
            target = out / f"{name}-{width}x{height}.png"
            subprocess.run(
                [
                    browser,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--hide-scrollbars",
                    f"--window-size={width},{height}",
                    f"--screenshot={target}",
                    (folder / page).resolve().as_uri(),
                ],
                check=True,
                capture_output=True,
                timeout=120,
            )
            shots.append(target)
    return shots


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report_dir", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--dpi", type=int, default=60)
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    shots = []
    if (args.report_dir / "report.pdf").is_file():
        shots += pdf_pages(args.report_dir / "report.pdf", args.out_dir, args.dpi)
    shots += html_views(args.report_dir, args.out_dir)
    for shot in shots:
        print(shot)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
