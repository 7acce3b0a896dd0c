"""(E) How fast does our 835 reader read a 5,000-claim remittance, compared with pyx12?

    .venv/bin/python bench/era_read.py [--claims 5000] [--repeat 5] [--pyx12-repeat 3] [--no-validation]

Generates the file with ``../shared/samples/era/make_big_835.py`` into a temporary folder (5,000
claims cycling through the synthetic sample's six shapes, 833 of them reversals; ~1.2 MB), then
times, in this process, the best of several runs of:

* **ours:** ``billing.era.read_835(bytes)``, which builds every payment, claim, line and
  adjustment as frozen dataclasses with ``Decimal`` amounts and checks the envelope;
* **pyx12 (baseline):** ``X12ContextReader(...).iter_segments("2100")`` walked for the same
  amounts (CLP, claim and line CAS, SVC, PLB) as ``Decimal`` — the way the reader's own
  differential test reads it;
* for information, one run of ``billing.era.validation.structural_problems`` (pyx12's validator).

Both readers' amounts are compared first, so the two sides did the same job. The goal: ours at
least 20 times faster than pyx12. No database and no Django set-up are needed. Figures go to
``bench/RESULTS.md`` unless ``--no-results``.
"""

from __future__ import annotations

import argparse
import gc
import io
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from benchlib import ROOT, machine_lines, say, table, write_section

GENERATOR = ROOT.parent / "shared" / "samples" / "era" / "make_big_835.py"
GOAL = 20.0


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of our reader (best reported)")
    parser.add_argument("--pyx12-repeat", type=int, default=3, help="timed runs of pyx12 (~10 s each)")
    parser.add_argument("--no-validation", action="store_true", help="skip timing pyx12's validator")
    parser.add_argument("--no-results", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="billingpulse-era-") as folder:
        path = Path(folder) / f"synthetic_835_{args.claims}.835"
        made = subprocess.run(
            [sys.executable, str(GENERATOR), str(args.claims), str(path)],
            cwd=folder,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        say(f"Generated {made}")
        data = path.read_bytes()

    from billing.era import read_835

    ours_amounts, pyx12_amounts = _our_amounts(read_835, data), _pyx12_amounts(data)
    if ours_amounts != pyx12_amounts:
        raise SystemExit("The two readers disagree on this file; timings would not compare like with like.")
    claims = sum(1 for item in ours_amounts if item[0] == "CLP")
    say(f"Both readers agree: {claims:,} claims, {len(ours_amounts):,} amounts.")

    ours = _best(args.repeat, lambda: read_835(data), "ours")
    theirs = _best(args.pyx12_repeat, lambda: _pyx12_amounts(data), "pyx12")
    validation = None
    if not args.no_validation:
        from billing.era.validation import structural_problems

        validation = _best(1, lambda: structural_problems(data), "pyx12 validator")
    lines = results(args, data, claims, ours, theirs, validation)
    say("\n".join(lines))
    if not args.no_results:
        write_section("era_read", "ERA 835 reading (E)", lines)


def _best(times: int, run: Callable[[], object], name: str) -> Timing:
    """The best wall-clock and the best CPU time (this process) of ``times`` runs."""
    wall = cpu = float("inf")
    for n in range(times):
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        run()
        elapsed, elapsed_cpu = time.perf_counter() - start, time.process_time() - start_cpu
        wall, cpu = min(wall, elapsed), min(cpu, elapsed_cpu)
        say(f"  {name} run {n + 1}/{times}: {elapsed:.3f} s ({elapsed_cpu:.3f} s CPU)")
    return Timing(wall, cpu)


def _our_amounts(read_835: Callable, data: bytes) -> list[tuple]:
    found: list[tuple] = []
    for payment in read_835(data).payments:
        for claim in payment.claims:
            found.append(("CLP", claim.claim_number, claim.charge, claim.paid))
            found.extend(("CAS", a.group, a.reason, a.amount) for a in claim.adjustments)
            for line in claim.lines:
                found.append(("SVC", line.code, line.charge, line.paid))
                found.extend(("CAS", a.group, a.reason, a.amount) for a in line.adjustments)
        found.extend(("PLB", p.code, p.amount) for p in payment.provider_adjustments)
    return found


def _pyx12_amounts(data: bytes) -> list[tuple]:
    # Every CAS in the generated file carries one triplet, so CAS01-03 are the whole segment.
    import pyx12.error_handler
    import pyx12.params
    import pyx12.x12context

    found: list[tuple] = []
    stream = io.StringIO(data.decode("utf-8-sig"))
    src = pyx12.x12context.X12ContextReader(pyx12.params.params(), pyx12.error_handler.errh_null(), stream)
    for node in src.iter_segments("2100"):
        if node.id == "2100":
            found.append(
                ("CLP", node.get_value("CLP01"), Decimal(node.get_value("CLP03")), Decimal(node.get_value("CLP04")))
            )
            found.extend(_pyx12_cas(node))
            for line in node.select("2110"):
                svc = (
                    "SVC",
                    line.get_value("SVC01-2"),
                    Decimal(line.get_value("SVC02")),
                    Decimal(line.get_value("SVC03")),
                )
                found.append(svc)
                found.extend(_pyx12_cas(line))
        elif node.seg_data.get_seg_id() == "PLB":
            for k in range(3, 15, 2):
                if node.get_value(f"PLB{k:02}-1"):
                    found.append(("PLB", node.get_value(f"PLB{k:02}-1"), Decimal(node.get_value(f"PLB{k + 1:02}"))))
    return found


def _pyx12_cas(node) -> list[tuple]:
    return [
        ("CAS", c.get_value("CAS01"), c.get_value("CAS02"), Decimal(c.get_value("CAS03"))) for c in node.select("CAS")
    ]


def results(args, data: bytes, claims: int, ours: Timing, theirs: Timing, validation: Timing | None) -> list[str]:
    ratio, wall_ratio = theirs.cpu / ours.cpu, theirs.wall / ours.wall
    rows = [("ours: `read_835` (dataclasses, Decimal, envelope checks)", ours, "1.0×")]
    rows.append(("pyx12: `X12ContextReader` + walk (baseline)", theirs, f"{ratio:.1f}×"))
    if validation is not None:
        rows.append(("pyx12 validator: `structural_problems` (1 run)", validation, f"{validation.cpu / ours.cpu:.1f}×"))
    met = "met" if ratio >= GOAL else "NOT met"
    return [
        *_machine_lines(),
        f"- Command: `.venv/bin/python bench/era_read.py --claims {args.claims} --repeat {args.repeat} "
        f"--pyx12-repeat {args.pyx12_repeat}` (best of the runs, each side; one process, the file read from memory)",
        f"- File: `make_big_835.py {args.claims}`: {claims:,} claims, {data.count(b'~'):,} segments, "
        f"{len(data) / 1024 / 1024:.2f} MiB; both readers gave the same amounts",
        "- CPU time is this process's (`time.process_time`): on a shared machine it moves less than wall time, "
        "which also counts waiting for the CPU.",
        "",
        *table(
            ["Reader", "Wall seconds", "CPU seconds", "Claims/s (CPU)", "CPU time vs ours"],
            [
                (name, f"{t.wall:.3f}", f"{t.cpu:.3f}", f"{claims / t.cpu:,.0f}" if t.cpu else "–", versus)
                for name, t, versus in rows
            ],
        ),
        "",
        f"**Speed goal (ours ≥ {GOAL:.0f}× faster than pyx12): {met}** — ours is {ratio:.0f}× faster in CPU time "
        f"({wall_ratio:.0f}× in wall time).",
    ]


def _machine_lines() -> list[str]:
    from importlib.metadata import version

    return machine_lines(None, software=f"Python {platform.python_version()}; pyx12 {version('pyx12')}")


if __name__ == "__main__":
    main()
