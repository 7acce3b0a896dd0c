"""The product's main sections, in navigation order.

A section whose issue has not landed yet shows an honest "coming" page that says what it
will do; when a section is built, its app's ``index`` URL takes over.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    url_name: str
    summary: str


SECTIONS = {
    section.key: section
    for section in [
        Section("dashboard", "Dashboard", "dashboard", "Today's work at a glance."),
        Section(
            "inbox",
            "Inbox",
            "inbox:index",
            "Claims and payments handed to a person, with the reason, an assignee and a due date.",
        ),
        Section(
            "claims",
            "Claims",
            "claims:index",
            "Import denied and unpaid claims from a CSV or Excel file, search and filter the worklist, "
            "and pick the claims to call the payer about.",
        ),
        Section(
            "calls",
            "Calls",
            "telephony:index",
            "Payer calls placed by the voice agent: live status, transcripts, reference numbers and "
            "scheduled follow-up calls.",
        ),
        Section(
            "billing",
            "Billing",
            "billing:index",
            "Payments, adjustments, refunds and write-offs on an append-only ledger with running balances.",
        ),
        Section(
            "notes",
            "Notes",
            "clinical:index",
            "SOAP and other clinical notes with e-signature, amendments, addenda and locking.",
        ),
        Section(
            "documents",
            "Documents",
            "documents:index",
            "Uploaded EOBs, letters and records with versions, review and text search.",
        ),
        Section(
            "reports",
            "Reports",
            "reports:index",
            "Denial trends, payer performance, AR aging and calling operations.",
        ),
    ]
}
