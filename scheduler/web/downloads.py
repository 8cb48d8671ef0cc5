"""Files the pages hand out (SDTM CSVs, the FHIR bundle, the preparation list, a subject's
audit trail). Each one leaves the system with patient data in it, so each download is an audit
entry (``export.download``: which export, its filter, how many rows) written in the unit of
work that read the data: no entry, no file."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from scheduler.kernel.unit import Unit

DOWNLOAD_ACTION = "export.download"


def audit_download(
    unit: Unit, export: str, *, subject_id: int | None = None, **details: Any
) -> None:
    unit.audit(
        DOWNLOAD_ACTION,
        entity="export",
        entity_id=None,
        subject_id=subject_id,
        new={"export": export, **details},
    )


def file_response(text: str, filename: str, media_type: str) -> Response:
    """An attachment the browser saves under ``filename`` (built from codes the services
    checked, so it needs no quoting beyond the quotes)."""
    return Response(
        content=text,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
