"""The patient page through the JSON API, as on the staff pages: the subject's private link
(status, issue, withdraw, the "no report" alert) and what the patient reported, with the
reviews that confirm or correct it. The link is in the answer of the call that issues it and
nowhere else (only its hash is stored)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from scheduler.kernel.subject_state import subject_state
from scheduler.patients.links import (
    issue_link,
    link_status,
    revoke_link,
    set_unreported_alert,
)
from scheduler.patients.reports import report_json
from scheduler.patients.reviews import Correction, review_json, review_report
from scheduler.patients.view import panel
from scheduler.web.api_types import ERRORS, ApiModel, Reason, RequiredReason
from scheduler.web.deps import NurseStaff, SubjectCode, UnitDep, WriteRoute
from scheduler.web.public_url import feed_settings

router = APIRouter(prefix="/api", route_class=WriteRoute, responses=ERRORS, tags=["patient page"])


class LinkStatusOut(BaseModel):
    live: bool
    issued_at: datetime | None
    issued_by: str | None
    alert_unreported: bool = Field(description="A dosing day without a report lists the subject")
    revoked: int = Field(description="How many earlier links were withdrawn or replaced")


class LinkIssueIn(ApiModel):
    alert_unreported: bool | None = Field(
        default=None, description="Opt in (or out) of the worklist line; null keeps the choice"
    )
    reason: Reason = ""


class LinkIssuedOut(BaseModel):
    url: str = Field(description="The private page; shown only in this answer")


class LinkRevokeIn(ApiModel):
    reason: RequiredReason


class LinkRevokedOut(BaseModel):
    revoked: int = Field(description="Links withdrawn (0 when none was live)")


class AlertIn(ApiModel):
    alert_unreported: bool = Field(
        description="List the subject when a dosing day passes unreported"
    )
    reason: Reason = ""


class ReviewIn(ApiModel):
    outcome: Literal["confirm", "correct"]
    taken: bool | None = Field(default=None, description="A corrected dose: taken or not")
    at: str | None = Field(default=None, max_length=5, description="A corrected dose's HH:MM")
    reading: str | None = Field(
        default=None, max_length=16, description="A corrected blood pressure, 150/95"
    )
    reason: Reason = ""


def _status(unit: UnitDep, code: str) -> LinkStatusOut:
    found = link_status(unit.session, code)
    return LinkStatusOut(
        live=found.live,
        issued_at=found.issued_at,
        issued_by=found.issued_by,
        alert_unreported=found.alert_unreported,
        revoked=found.revoked,
    )


@router.get("/subjects/{code}/patient-link")
def get_patient_link(code: SubjectCode, unit: UnitDep) -> LinkStatusOut:
    """Whether the subject's private page link is live, since when, who issued it. Never the
    link itself."""
    return _status(unit, code)


@router.post("/subjects/{code}/patient-link", status_code=201)
def post_patient_link(
    code: SubjectCode,
    body: LinkIssueIn,
    request: Request,
    response: Response,
    _staff: NurseStaff,
    unit: UnitDep,
) -> LinkIssuedOut:
    """Issue the subject's private page link (a live one stops working: rotation)."""
    issued = issue_link(
        unit,
        feed_settings(request),
        code,
        alert_unreported=body.alert_unreported,
        reason=body.reason,
    )
    response.headers["Cache-Control"] = "no-store"
    return LinkIssuedOut(url=issued.url)


@router.post("/subjects/{code}/patient-link/revoke")
def post_patient_link_revoke(
    code: SubjectCode, body: LinkRevokeIn, _staff: NurseStaff, unit: UnitDep
) -> LinkRevokedOut:
    """Withdraw the link: the page answers 410, the one-tap links of reminders too."""
    return LinkRevokedOut(revoked=revoke_link(unit, code, reason=body.reason))


@router.post("/subjects/{code}/patient-link/alert")
def post_patient_link_alert(
    code: SubjectCode, body: AlertIn, _staff: NurseStaff, unit: UnitDep
) -> LinkStatusOut:
    """Opt the subject in (or out) of the worklist line for a dosing day left unreported."""
    set_unreported_alert(unit, code, on=body.alert_unreported, reason=body.reason)
    return _status(unit, code)


@router.get("/subjects/{code}/patient-reports")
def get_patient_reports(code: SubjectCode, unit: UnitDep) -> dict[str, Any]:
    """What the patient reported, newest first, each with what the verified records say and
    its review; and the reported and verified dose counts."""
    state = subject_state(unit.session, code, unit.now)
    shown = panel(unit.session, state, link_status(unit.session, code))
    counts = shown.counts
    return {
        "subject": code,
        "reports": [
            report_json(line.report)
            | {
                "verified": line.verified,
                "review": review_json(line.review) if line.review else None,
            }
            for line in shown.lines
        ],
        "counts": {
            "reported_taken": counts.reported_taken,
            "reported_not_taken": counts.reported_not_taken,
            "unverified": counts.unverified,
            "verified_taken": counts.verified_taken,
            "verified_missed": counts.verified_missed,
            "disagree": counts.disagree,
        },
    }


@router.post("/subjects/{code}/patient-reports/{report_id}/review", status_code=201)
def post_patient_report_review(
    code: SubjectCode, report_id: int, body: ReviewIn, _staff: NurseStaff, unit: UnitDep
) -> dict[str, Any]:
    """Confirm a report (it becomes the verified dose record or home reading) or correct it
    (with what was established and a reason)."""
    correction = (
        Correction(taken=body.taken, at=body.at, reading=body.reading)
        if body.outcome == "correct"
        else None
    )
    review = review_report(unit, code, report_id, correction=correction, reason=body.reason)
    return review_json(review)
