"""How many scanned pages per minute does Tesseract read, and how should the OCR worker run it?

    .venv/bin/python bench/documents_ocr.py [--pages 6] [--repeat 2] [--no-results]

Generates ``--pages`` Letter pages at 200 dpi (1700 × 2200, DejaVu Sans 11 pt lines of a made-up EOB, as
``pdftoppm -r 200`` renders a scan) into a temporary folder, then reads them all with
``documents.extract.ocr_png`` — the same call ``extract_text`` makes per page — three ways:

* **sequential, ``OMP_THREAD_LIMIT=1``** (the baseline and what ``extract_text`` does in one task);
* **sequential, default threads**: the variable unset, so Tesseract's OpenMP uses every CPU per page;
* **parallel, one process per CPU, ``OMP_THREAD_LIMIT=1``**: as many Tesseract processes at once as CPUs
  (what a Celery OCR queue with ``--concurrency=<CPUs>`` does).

Each way runs ``--repeat`` times (median reported), alternating, so a busy machine affects all of them. The
words read are checked against the page's text, so every way did the same job. CPU seconds are those of the
Tesseract child processes (``RUSAGE_CHILDREN``). No database, no Django. Figures go to ``bench/RESULTS.md``
unless ``--no-results``.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from benchlib import machine_lines, say, table, write_section
from PIL import Image, ImageDraw, ImageFont

from documents.extract import ocr_png

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
DPI = 200
PAGE = (1700, 2200)
LINE = "Claim {n:07d}  DOS 01/{day:02d}/2026  99213  185.00  96.40  77.12  CO-45  PR-2"


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu: float  # Tesseract's CPU seconds (user + system)
    recall: float  # share of the pages' words that Tesseract read back


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=2, help="timed runs of each way (median reported)")
    parser.add_argument("--no-results", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args()
    cpus = os.cpu_count() or 1
    os.environ.pop("OMP_THREAD_LIMIT", None)  # "default threads" must mean unset, whatever the shell had

    with tempfile.TemporaryDirectory(prefix="billingpulse-ocr-bench-") as folder:
        pages, expected = _make_pages(Path(folder), args.pages)
        say(f"Generated {len(pages)} Letter pages at {DPI} dpi ({PAGE[0]}×{PAGE[1]}), {len(expected)} words each.")
        ways: dict[str, Callable[[], list[str]]] = {
            "sequential, OMP_THREAD_LIMIT=1 (baseline)": lambda: [ocr_png(p, omp_threads=1) for p in pages],
            "sequential, default threads (unset)": lambda: [ocr_png(p, omp_threads=None) for p in pages],
            f"parallel, {cpus} processes, OMP_THREAD_LIMIT=1": lambda: _parallel(pages, cpus),
        }
        runs: dict[str, list[Run]] = {name: [] for name in ways}
        for round_ in range(args.repeat):
            for name, way in ways.items():
                run = _timed(way, expected)
                runs[name].append(run)
                say(f"  round {round_ + 1}: {name}: {run.seconds:.2f} s, CPU {run.cpu:.2f} s, recall {run.recall:.1%}")

    lines = results(args, cpus, runs)
    say("\n".join(lines))
    if not args.no_results:
        write_section("documents_ocr", "Document OCR throughput (Tesseract)", lines)


def _make_pages(folder: Path, count: int) -> tuple[list[Path], set[str]]:
    font = ImageFont.truetype(str(FONT), round(11 * DPI / 72))
    lines = ["EXPLANATION OF BENEFITS  Example Health Plan  Check 00912345"]
    lines += [LINE.format(n=4471800 + n, day=1 + n % 28) for n in range(40)]
    pages = []
    for number in range(count):
        image = Image.new("L", PAGE, 255)
        draw = ImageDraw.Draw(image)
        for row, text in enumerate(lines):
            draw.text((DPI // 2, DPI // 2 + row * 48), text, font=font, fill=0)
        path = folder / f"page-{number + 1}.png"
        image.save(path, dpi=(DPI, DPI))
        pages.append(path)
    return pages, set(" ".join(lines).split())


def _parallel(pages: list[Path], workers: int) -> list[str]:
    # Threads only wait on the Tesseract subprocesses: each page is its own process, one per CPU at a time.
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda page: ocr_png(page, omp_threads=1), pages))


def _timed(way: Callable[[], list[str]], expected: set[str]) -> Run:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    texts = way()
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    recall = statistics.mean(len(expected & set(text.split())) / len(expected) for text in texts)
    return Run(seconds, cpu, recall)


def results(args, cpus: int, runs: dict[str, list[Run]]) -> list[str]:
    baseline = statistics.median(run.seconds for run in next(iter(runs.values())))
    rows = []
    rates = {name: args.pages / statistics.median(r.seconds for r in measured) * 60 for name, measured in runs.items()}
    best, best_rate = max(rates.items(), key=lambda item: item[1])
    cpu_per_page = {name: statistics.median(r.cpu for r in measured) / args.pages for name, measured in runs.items()}
    for name, measured in runs.items():
        seconds = statistics.median(run.seconds for run in measured)
        cpu = statistics.median(run.cpu for run in measured)
        recall = min(run.recall for run in measured)
        rows.append(
            (
                name,
                f"{seconds:.2f}",
                f"{seconds / args.pages:.2f}",
                f"{args.pages / seconds * 60:.1f}",
                f"{baseline / seconds:.2f}×",
                f"{cpu:.2f}",
                f"{recall:.1%}",
            )
        )
    return [
        *machine_lines(None, software=f"Python {platform.python_version()}; {_tesseract_version()}"),
        f"- Command: `.venv/bin/python bench/documents_ocr.py --pages {args.pages} --repeat {args.repeat}` "
        f"(medians of {args.repeat} alternating rounds)",
        f"- Pages: {args.pages} generated Letter pages at {DPI} dpi, 41 lines of EOB text in DejaVu Sans 11 pt; "
        "read with `documents.extract.ocr_png` (Tesseract, `-l eng`)",
        "- CPU seconds are Tesseract's (child processes, user + system); recall is the worst run's share of each "
        "page's words read back exactly.",
        "",
        *table(
            ["Way", "Wall seconds", "s/page", "Pages/min", "Speed vs baseline", "CPU seconds", "Words read"],
            rows,
        ),
        "",
        f"Fastest: **{best}** at {best_rate:.1f} pages/min; CPU seconds per page: "
        + "; ".join(f"{name}: {cpu:.2f}" for name, cpu in cpu_per_page.items())
        + ".",
    ]


def _tesseract_version() -> str:
    import pytesseract

    done = subprocess.run([pytesseract.pytesseract.tesseract_cmd, "--version"], capture_output=True, text=True)
    return (done.stdout or done.stderr).splitlines()[0] if (done.stdout or done.stderr) else "tesseract"


if __name__ == "__main__":
    main()
