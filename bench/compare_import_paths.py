"""Check that the import's two ways of writing (COPY on PostgreSQL, the ORM elsewhere) give the same result.

    .venv/bin/python bench/compare_import_paths.py

On a throwaway PostgreSQL database (see ``benchlib``), the same files are imported into two
practices, one with the COPY path and one with the ORM path (the one SQLite uses), in small
batches so that repeats cross batches. The first file creates claims; the second changes many
of them (amounts, denials on paid and open claims, procedure codes, diagnoses, member IDs) and
adds new ones. Then everything the imports wrote is compared, ids and timestamps aside: claims,
service lines, timeline events, patients, policies, the rejected rows and the import counts.
Exits non-zero on any difference.
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import sys
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import finish_database, prepare_database, say, setup_django  # noqa: E402

HEADER = [
    "Claim No",
    "Patient",
    "DOB",
    "DOS",
    "DOS To",
    "Amount",
    "Paid",
    "Code",
    "Denial",
    "Payer ID",
    "Member ID",
    "Group",
    "CPT",
    "Modifiers",
    "Units",
    "ICD10",
    "POS",
]
PAYERS = [("Aetna", "60054", 120), ("BCBS Texas", "00590", 95), ("Cigna", "62308", 90)]
NAMES = ["Maria Lopez", "LOPEZ, MARIA", "Joe Bloggs", "Ann Lee", "Bo Chan", "Priya Patel", "Omar Haddad", "Kim Sato"]
DOBS = ["03/14/1980", "1980-03-14", "01/02/1970", "12/31/1955", "07/04/1990", "02/29/2000"]


def write_file(path: Path, rows: int, seed: int, changed: bool) -> None:
    rng = random.Random(seed)
    start = date(2025, 6, 1)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(1, rows + 1):
            # The second file touches two claims in three and adds new numbers above the first file's.
            number = n if not changed else (n if n % 3 else rows + n)
            dos = start + timedelta(days=rng.randint(0, 300))
            to = dos + timedelta(days=rng.randint(0, 3)) if rng.random() < 0.2 else None
            code, reason = rng.choice([("", ""), ("", ""), ("CO-16", "Missing info"), ("PR-1", ""), ("", "Text only")])
            cpt = rng.choice(["", "99213", "99214-25", "J1100", "100"])
            name = rng.choice(NAMES) if rng.random() > 0.01 else "Nobody"
            dob = rng.choice(DOBS) if rng.random() > 0.02 else ""
            row = [
                f"C-{number:05d}" if rng.random() > 0.01 else f"C-{rng.randint(1, max(n - 1, 1)):05d}",
                name,
                dob,
                dos.strftime("%m/%d/%Y") if rng.random() > 0.005 else "13/45/2026",
                to.isoformat() if to else "",
                f"${rng.randint(10, 5000)}.{rng.randint(0, 99):02d}" if rng.random() > 0.005 else "-5",
                rng.choice(["", "", "0", "12.50"]),
                code,
                reason,
                rng.choice([p[1] for p in PAYERS]) if rng.random() > 0.005 else "99999",
                rng.choice(["", "W1", "W2", "w 3"]),
                rng.choice(["", "G1"]),
                cpt,
                rng.choice(["", "", "59", "RT LT"]),
                rng.choice(["", "1", "2.5"]),
                rng.choice(["", "E119", "E11.9, I10", "Z00.00"]),
                rng.choice(["", "11", "2"]),
            ]
            writer.writerow(row)


def snapshot(practice) -> dict:
    """Everything an import wrote for ``practice``, without ids or timestamps."""
    from billingpulse.models import Patient
    from claims.models import Claim, ClaimEvent, ClaimImport, ClaimImportError, ClaimLine, InsurancePolicy

    imports = {
        pk: n
        for n, pk in enumerate(
            ClaimImport.objects.filter(practice=practice).order_by("pk").values_list("pk", flat=True)
        )
    }
    claims = {}
    for claim in Claim.objects.filter(practice=practice).select_related("patient", "payer", "policy__payer"):
        claims[claim.claim_number] = (
            claim.patient.first_name,
            claim.patient.last_name,
            claim.patient.date_of_birth,
            claim.payer.payer_id,
            claim.policy and (claim.policy.member_id, claim.policy.payer.payer_id, claim.policy.group_number),
            claim.service_date_from,
            claim.service_date_to,
            claim.total_charge,
            claim.paid_amount,
            claim.adjustment_amount,
            claim.allowed_amount,
            claim.status,
            claim.status_changed_at is not None,
            claim.denial_code,
            claim.denial_reason,
            tuple(claim.diagnosis_codes),
            tuple(claim.remark_codes),
            claim.claim_type,
            claim.claim_form,
            claim.timely_filing_deadline,
            imports.get(claim.last_import_id),
            claim.next_follow_up_date,
            claim.last_call_outcome,
        )
    lines = sorted(
        (
            line.claim.claim_number,
            line.line_number,
            line.service_date,
            line.procedure_code,
            tuple(line.modifiers),
            line.units,
            line.charge,
            line.place_of_service,
            line.diagnosis_pointers,
            line.revenue_code,
        )
        for line in ClaimLine.objects.filter(claim__practice=practice).select_related("claim")
    )
    uploader = ClaimImport.objects.filter(practice=practice).values_list("uploaded_by_id", flat=True).first()
    events = [
        (
            event.claim.claim_number,
            event.kind,
            event.from_status,
            event.to_status,
            event.message,
            event.actor_id == uploader,
            event.source,
        )
        for event in ClaimEvent.objects.filter(claim__practice=practice).select_related("claim", "actor").order_by("pk")
    ]
    patients = sorted(
        Patient.objects.filter(practice=practice).values_list(
            "first_name", "last_name", "date_of_birth", "sex", "account_number"
        )
    )
    policies = sorted(
        InsurancePolicy.objects.filter(practice=practice).values_list(
            "patient__first_name",
            "patient__last_name",
            "patient__date_of_birth",
            "payer__payer_id",
            "member_id",
            "group_number",
            "priority",
            "subscriber_relationship",
        )
    )
    errors = list(
        ClaimImportError.objects.filter(claim_import__practice=practice)
        .order_by("claim_import_id", "pk")
        .values_list("row_number", "column", "value", "message")
    )
    counts = list(
        ClaimImport.objects.filter(practice=practice)
        .order_by("pk")
        .values_list("status", "processed_rows", "imported_count", "updated_count", "rejected_count", "total_rows")
    )
    return {
        "claims": claims,
        "lines": lines,
        "events": events,
        "patients": patients,
        "policies": policies,
        "errors": errors,
        "imports": counts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=400)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    database = prepare_database(keep=args.keep)
    setup_django(database.url)
    import tempfile

    from django.core.files.uploadedfile import UploadedFile

    from billingpulse.models import Practice, User
    from claims.importing import engine
    from claims.models import Claim, ClaimLine, Payer

    workdir = Path(tempfile.mkdtemp(prefix="claims-compare-"))
    first, second = workdir / "first.csv", workdir / "second.csv"
    write_file(first, args.rows, seed=1, changed=False)
    write_file(second, args.rows, seed=2, changed=True)
    engine.BATCH_SIZE = args.batch_size
    copy_path = engine._use_copy
    results = {}
    try:
        for label, use_copy in (("copy", copy_path), ("orm", lambda: False)):
            engine._use_copy = use_copy
            practice = Practice.objects.create(name=f"Compare {label}")
            user = User.objects.create_user(f"{label}-compare@example.com", practice=practice)
            for name, payer_id, days in PAYERS:
                Payer.objects.create(practice=practice, name=name, payer_id=payer_id, timely_filing_days=days)
            for path in (first, second):
                if path is second:
                    # Claims worked since the first import: some paid (cannot become denied), some with two lines.
                    claims = Claim.objects.filter(practice=practice).order_by("claim_number")
                    for claim in claims[:300:7]:
                        claim.status = Claim.Status.PAID
                        claim.save(update_fields=["status"])
                    for claim in claims[1:300:11]:
                        ClaimLine.objects.create(claim=claim, line_number=9, procedure_code="99215", charge=1)
                with path.open("rb") as handle:
                    upload = UploadedFile(
                        file=handle, name=path.name, content_type="text/csv", size=path.stat().st_size
                    )
                    claim_import = engine.inspect_upload(practice=practice, user=user, upload=upload)
                engine.start(claim_import)
                result = engine.run_import(claim_import.pk)
                say(
                    f"{label} {path.name}: imported {result.imported_count}, updated {result.updated_count}, "
                    f"rejected {result.rejected_count}"
                )
            results[label] = snapshot(practice)
    finally:
        engine._use_copy = copy_path
        finish_database(database)
        shutil.rmtree(workdir, ignore_errors=True)
    differences = 0
    for key in results["copy"]:
        a, b = results["copy"][key], results["orm"][key]
        if a != b:
            differences += 1
            say(f"DIFFERENT: {key}")
            if isinstance(a, dict):
                for number in sorted(set(a) | set(b)):
                    if a.get(number) != b.get(number):
                        say(f"  {number}: copy={a.get(number)} orm={b.get(number)}")
                        break
            else:
                for x, y in zip(a, b, strict=False):
                    if x != y:
                        say(f"  copy={x}\n  orm ={y}")
                        break
                say(f"  lengths: copy={len(a)} orm={len(b)}")
        else:
            say(f"same: {key} ({len(a)})")
    if differences:
        raise SystemExit(1)
    say("The COPY path and the ORM path wrote the same data.")


if __name__ == "__main__":
    main()
