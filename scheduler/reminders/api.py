"""A patient's reminder choice through the JSON API, as in the Reminders section of the subject
page: read it, or opt in or out with ``set_preference``, the service ``dosing reminders
opt-in``/``opt-out`` call. The address is shown here to every role (read-only but to nurses and
investigators); the audit views show it only to the roles that manage reminders."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from scheduler.reminders.channels.registry import CHANNEL_NAMES
from scheduler.reminders.outbox import PreferenceSummary, preference_summary, set_preference
from scheduler.web.api_types import ERRORS, ApiModel
from scheduler.web.deps import (
    CurrentStaff,
    NurseStaff,
    SubjectCode,
    UnitDep,
    WriteRoute,
    request_unit,
)

router = APIRouter(prefix="/api", route_class=WriteRoute, responses=ERRORS, tags=["reminders"])


class ReminderPreferenceOut(BaseModel):
    opted_in: bool
    channel: str | None = Field(description="Kept after an opt-out: where reminders went")
    address: str | None
    pending: int = Field(description="Reminders queued and not yet sent")
    updated_at: datetime | None
    updated_by: str | None

    @classmethod
    def of(cls, summary: PreferenceSummary) -> ReminderPreferenceOut:
        return cls(
            opted_in=summary.opted_in,
            channel=summary.channel,
            address=summary.address,
            pending=summary.pending,
            updated_at=summary.updated_at,
            updated_by=summary.updated_by,
        )


class ReminderPreferenceIn(ApiModel):
    opted_in: bool
    channel: str | None = Field(
        default=None,
        description="Needed to opt in",
        json_schema_extra={"enum": [*CHANNEL_NAMES, None]},
    )
    address: str | None = Field(
        default=None,
        max_length=320,
        description="Needed to opt in: an email address (email), a phone number in E.164 form "
        "(sms, webhook) or a label (console)",
    )


@router.get("/subjects/{code}/reminders")
def reminder_preference(
    code: SubjectCode, unit: UnitDep, staff: CurrentStaff
) -> ReminderPreferenceOut:
    """Whether the subject gets reminders, by which channel, to which address (shown to the
    roles that manage reminders, "(hidden)" to the others), and how many are still to be
    sent."""
    return ReminderPreferenceOut.of(preference_summary(unit.session, code, viewer_role=staff.role))


@router.put("/subjects/{code}/reminders")
def change_reminder_preference(
    request: Request, code: SubjectCode, body: ReminderPreferenceIn, staff: NurseStaff
) -> ReminderPreferenceOut:
    """Opt the subject in (again, to change channel or address) or out; opting out cancels the
    pending reminders. Opting out someone who is not opted in is refused (field ``subject``)."""
    with request_unit(request, staff.name) as unit:
        if body.opted_in:
            set_preference(unit, code, opted_in=True, channel=body.channel, address=body.address)
        else:
            set_preference(unit, code, opted_in=False)
    # Read after the commit: the subject's reminders are re-derived as the unit commits, so the
    # pending count is only right from a second transaction.
    with request_unit(request, staff.name) as unit:
        return ReminderPreferenceOut.of(
            preference_summary(unit.session, code, viewer_role=staff.role)
        )
