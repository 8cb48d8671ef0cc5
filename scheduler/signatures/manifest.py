"""The signature manifest: one CSV row per signature, with whether it still matches its record
(what an inspector compares with the audit trail), then one row per decision still awaiting
its signature, so an export never passes an unsigned decision off as signed."""

from __future__ import annotations

import csv
import io

from sqlmodel import Session

from scheduler.kernel.sites import site_scope
from scheduler.signatures.records import unsigned_records
from scheduler.signatures.services import manifest

HEADERS = (
    "status",
    "subject",
    "record",
    "meaning",
    "signer_name",
    "signer_account",
    "signed_at_utc",
    "signed_local",
    "reason",
    "record_sha256",
    "valid",
)


def manifest_csv(session: Session) -> str:
    """Every signature the session's sites may see, oldest first, then every decision there
    awaiting one."""
    scope = site_scope(session)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADERS)
    site_ids = None if scope is None else sorted(scope)
    for line in manifest(session, site_ids):
        writer.writerow(
            [
                "signed",
                line.subject,
                line.record,
                line.meaning,
                line.signer_name,
                line.signer_account,
                line.signed_at,
                line.signed_local,
                line.reason,
                line.record_sha256,
                "yes" if line.valid else "NO",
            ]
        )
    for record in unsigned_records(session, site_ids=site_ids):
        label = f"{record.kind}-{record.id}"
        writer.writerow(
            ["awaiting signature", record.subject_code, label, record.meaning] + [""] * 6
        )
    return out.getvalue()
