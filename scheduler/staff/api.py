"""The admin's operations through the JSON API, as on the Accounts and Reminders pages: list,
add and deactivate staff accounts, issue API tokens, read the reminder outbox. Admin tokens
only; the same service functions as ``dosing user ...`` and ``dosing reminders status``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from scheduler.models import ROLES, StaffUser
from scheduler.reminders.outbox import OutboxStatus, outbox_status
from scheduler.staff.accounts import (
    create_staff,
    deactivate,
    get_staff_user,
    issue_api_token,
    list_staff,
)
from scheduler.web.api_types import ERRORS, Reason
from scheduler.web.deps import AdminStaff, UnitDep

router = APIRouter(prefix="/api", responses=ERRORS, tags=["admin"])

UserName = Annotated[str, Path(min_length=1, max_length=64, description="Staff user name")]


class StaffOut(BaseModel):
    name: str
    role: str
    active: bool
    created_at: datetime
    created_by: str

    @classmethod
    def of(cls, row: StaffUser) -> StaffOut:
        return cls(
            name=row.name,
            role=row.role,
            active=row.active,
            created_at=row.created_at,
            created_by=row.created_by,
        )


class StaffIn(BaseModel):
    name: str = Field(description="1-64 letters, digits, '.', '_', '@' or '-'")
    role: str = Field(description=f"One of: {', '.join(ROLES)}")
    password: str = Field(description="At least 10 characters")


class DeactivateIn(BaseModel):
    reason: Reason


class TokenIn(BaseModel):
    label: str = Field(default="", description="What the token is for (at most 100 characters)")


class TokenOut(BaseModel):
    name: str
    token: str = Field(description="Shown in this answer only; stored as a digest")


@router.get("/staff")
def staff_accounts(_admin: AdminStaff, unit: UnitDep) -> list[StaffOut]:
    """Every staff account, active or not, by name."""
    return [StaffOut.of(row) for row in list_staff(unit.session)]


@router.post("/staff", status_code=201)
def add_staff_account(body: StaffIn, _admin: AdminStaff, unit: UnitDep) -> StaffOut:
    """Add an account; the password is hashed with argon2id and never returned."""
    created = create_staff(unit, body.name.strip(), role=body.role, password=body.password)
    return StaffOut.of(get_staff_user(unit.session, created.name))


@router.post("/staff/{name}/deactivate")
def deactivate_staff_account(
    name: UserName, body: DeactivateIn, _admin: AdminStaff, unit: UnitDep
) -> StaffOut:
    """Lock the account out: its sessions end and its API tokens stop working at once."""
    deactivate(unit, name, reason=body.reason)
    return StaffOut.of(get_staff_user(unit.session, name))


@router.post("/staff/{name}/tokens", status_code=201)
def issue_staff_token(
    name: UserName, body: TokenIn, response: Response, _admin: AdminStaff, unit: UnitDep
) -> TokenOut:
    """A new API token acting as ``name``, shown in this answer only."""
    token = issue_api_token(unit, name, label=body.label)
    response.headers["Cache-Control"] = "no-store"
    return TokenOut(name=name, token=token)


@router.get("/reminders/outbox")
def reminder_outbox(
    _admin: AdminStaff,
    unit: UnitDep,
    limit: Annotated[int, Query(ge=1, le=500, description="Failures listed at most")] = 200,
) -> OutboxStatus:
    """Reminders per status, the next one due, and those retrying or given up with their last
    error: the report of the Reminders page and ``dosing reminders status``."""
    return outbox_status(unit.session, limit=limit)
