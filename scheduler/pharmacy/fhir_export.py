"""One subject's plan as a FHIR R4 Bundle (validated against the R4B models of fhir.resources:
version 8 of that package defaults to R5, and R4B is the R4-compatible subpackage). A
MedicationRequest carries one Dosage per cycle whose Timing repeats once per administration a
day, bounded to that cycle's dosing days, which expresses "days 1-14 of a 21-day cycle" even
when holds and delays move cycles; visits become Appointments, all activities of a CarePlan."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from sqlmodel import Session

from scheduler import core
from scheduler.core.cycles import CyclePlan
from scheduler.kernel.subject_state import subject_state

_CAREPLAN_STATUS = {
    "screening": "active",
    "on_treatment": "active",
    "on_hold": "on-hold",
    "completed": "completed",
    "discontinued": "revoked",
    "withdrawn_before_treatment": "revoked",
    "screen_failure": "revoked",
}
_REQUEST_STATUS = {
    "screening": "active",
    "on_treatment": "active",
    "on_hold": "on-hold",
    "completed": "completed",
    "discontinued": "stopped",
    "withdrawn_before_treatment": "cancelled",
    "screen_failure": "cancelled",
}
_APPOINTMENT_STATUS = {
    "planned": "proposed",
    "due": "proposed",
    "overdue": "proposed",
    "done": "fulfilled",
    "cancelled": "cancelled",
}


def _id(*parts: object) -> str:
    """A FHIR id: letters, digits, '-' and '.', at most 64 characters."""
    return re.sub(r"[^A-Za-z0-9.-]", "-", "-".join(str(p) for p in parts))[:64]


def _dosage(plan: core.Plan, cycle: CyclePlan) -> dict[str, Any]:
    schedule = plan.protocol.schedule
    days = [d.date for d in cycle.doses] or [cycle.day1]
    return {
        "sequence": cycle.number,
        "text": (
            f"Cycle {cycle.number}: {cycle.dose_mg:g} mg {schedule.administrations_per_day}x daily "
            f"on days {_days(plan)} of a {schedule.cycle_length_days}-day cycle"
        ),
        "timing": {
            "repeat": {
                "boundsPeriod": {"start": min(days).isoformat(), "end": max(days).isoformat()},
                "frequency": schedule.administrations_per_day,
                "period": 1,
                "periodUnit": "d",
            }
        },
        "route": {"text": plan.protocol.drug.route},
        "doseAndRate": [
            {
                "doseQuantity": {
                    "value": cycle.dose_mg,
                    "unit": "mg",
                    "system": "http://unitsofmeasure.org",
                    "code": "mg",
                }
            }
        ],
    }


def _days(plan: core.Plan) -> str:
    days = plan.protocol.schedule.dosing_days
    return (
        f"{days[0]}-{days[-1]}"
        if list(days) == list(range(days[0], days[-1] + 1))
        else ",".join(map(str, days))
    )


def plan_bundle(plan: core.Plan) -> dict[str, Any]:
    patient = _id(plan.subject)
    request_id = _id(plan.subject, "anlotinib-request")
    cycles = [c for c in plan.cycles if c.status != "cancelled"]
    medication_request = {
        "resourceType": "MedicationRequest",
        "id": request_id,
        "status": _REQUEST_STATUS[plan.status],
        "intent": "plan",
        "medicationCodeableConcept": {
            "text": f"{plan.protocol.drug.name} {plan.protocol.drug.form}"
        },
        "subject": {"reference": f"Patient/{patient}"},
        "dosageInstruction": [_dosage(plan, c) for c in cycles],
    }
    appointments = [
        {
            "resourceType": "Appointment",
            "id": _id(plan.subject, visit.code),
            "status": _APPOINTMENT_STATUS[visit.status],
            "description": visit.name,
            "requestedPeriod": [
                {"start": visit.window_start.isoformat(), "end": visit.window_end.isoformat()}
            ],
            "participant": [{"actor": {"reference": f"Patient/{patient}"}, "status": "accepted"}],
        }
        for visit in plan.visits
    ]
    care_plan = {
        "resourceType": "CarePlan",
        "id": _id(plan.subject, "careplan"),
        "status": _CAREPLAN_STATUS[plan.status],
        "intent": "plan",
        "title": plan.protocol.title,
        "subject": {"reference": f"Patient/{patient}"},
        "activity": [{"reference": {"reference": f"MedicationRequest/{request_id}"}}]
        + [{"reference": {"reference": f"Appointment/{a['id']}"}} for a in appointments],
    }
    resources: list[dict[str, Any]] = [
        {"resourceType": "Patient", "id": patient, "identifier": [{"value": plan.subject}]},
        care_plan,
        medication_request,
        *appointments,
    ]
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"{r['resourceType']}/{r['id']}", "resource": r} for r in resources],
    }
    Bundle.model_validate(bundle)
    return bundle


def subject_bundle_json(session: Session, code: str, now: datetime) -> str:
    return json.dumps(plan_bundle(subject_state(session, code, now).plan()), indent=2)
