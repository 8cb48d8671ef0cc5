"""The signature manifest: one CSV row per signature, with whether it still matches its record
(what an inspector compares with the audit trail)."""

from __future__ import annotations

import csv
import io

from sqlmodel import Session

from scheduler.kernel.sites import site_scope
from scheduler.signatures.services import manifest

HEADERS = (
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
    """Every signature the session's sites may see, oldest first."""
    scope = site_scope(session)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADERS)
    for line in manifest(session, None if scope is None else sorted(scope)):
        writer.writerow(
            [
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
    return out.getvalue()
