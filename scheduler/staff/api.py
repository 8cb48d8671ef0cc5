"""The admin's operations through the JSON API, as on the Accounts and Reminders pages: list,
add and deactivate staff accounts, set their sites, lift a login lockout, issue, list and
revoke API tokens, read the reminder outbox. Admin tokens only; the same service functions as
``dosing user ...`` and ``dosing reminders status``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from scheduler.i18n import Language
from scheduler.kernel.unit import Unit
from scheduler.models import ROLES, ApiToken
from scheduler.reminders.outbox import OutboxStatus, outbox_status
from scheduler.staff.accounts import (
    MAX_TOKEN_LIFETIME_DAYS,
    MIN_PASSWORD_LENGTH,
    TOKEN_LIFETIME_DAYS,
    USER_NAME_PATTERN,
    StaffAccount,
    create_staff,
    deactivate,
    issue_api_token,
    list_staff,
    list_tokens,
    revoke_api_token,
    set_sites,
)
from scheduler.staff.throttle import unlock
from scheduler.web.api_types import ERRORS, ApiModel, Code, RequiredReason, Text
from scheduler.web.deps import AdminStaff, UnitDep, WriteRoute

router = APIRouter(prefix="/api", route_class=WriteRoute, responses=ERRORS, tags=["admin"])

UserName = Annotated[str, Path(min_length=1, max_length=64, description="Staff user name")]


SiteCodes = Annotated[
    list[Code],
    Field(max_length=100, description="Codes of the sites the account works at; none: all sites"),
]


class StaffOut(BaseModel):
    name: str
    role: str
    active: bool
    created_at: datetime
    created_by: str
    sites: list[str] = Field(description="The sites the account works at; empty: study-wide")
    locked_until: datetime | None = Field(
        description="The end of a lockout after too many failed logins, if one is in force"
    )
    language: str = Field(description="The language of the account's pages")

    @classmethod
    def of(cls, account: StaffAccount) -> StaffOut:
        return cls(
            name=account.name,
            role=account.role,
            active=account.active,
            created_at=account.created_at,
            created_by=account.created_by,
            sites=list(account.sites),
            locked_until=account.locked_until,
            language=account.language,
        )


class StaffIn(ApiModel):
    name: str = Field(
        pattern=USER_NAME_PATTERN,
        description="1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit",
    )
    role: str = Field(
        description=f"One of: {', '.join(ROLES)}", json_schema_extra={"enum": list(ROLES)}
    )
    password: str = Field(
        min_length=MIN_PASSWORD_LENGTH,
        max_length=1024,
        description=f"At least {MIN_PASSWORD_LENGTH} characters",
    )
    sites: SiteCodes = Field(default_factory=list)
    language: Language = Field(default="en", description="The language of the account's pages")


class DeactivateIn(ApiModel):
    reason: RequiredReason


class SitesIn(ApiModel):
    sites: SiteCodes
    reason: RequiredReason


class ReasonIn(ApiModel):
    reason: RequiredReason


class TokenIn(ApiModel):
    label: Annotated[str, Text(limit=100)] = Field(
        default="", description="What the token is for (at most 100 characters)"
    )
    days: int = Field(
        default=TOKEN_LIFETIME_DAYS,
        ge=1,
        le=MAX_TOKEN_LIFETIME_DAYS,
        description=f"Days until the token expires, 1 to {MAX_TOKEN_LIFETIME_DAYS}",
    )


class TokenInfo(BaseModel):
    id: int
    label: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None = Field(description="To the minute; null if never used")
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: ApiToken) -> TokenInfo:
        return cls(
            id=row.id or 0,
            label=row.label,
            created_at=row.created_at,
            expires_at=row.expires_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )


class TokenOut(BaseModel):
    name: str
    token: str = Field(description="Shown in this answer only; stored as a digest")
    id: int
    expires_at: datetime


def _account(unit: Unit, name: str) -> StaffOut:
    return StaffOut.of(list_staff(unit.session, unit.now, name)[0])


@router.get("/staff")
def staff_accounts(_admin: AdminStaff, unit: UnitDep) -> list[StaffOut]:
    """Every staff account, active or not, by name, with its sites and any lockout."""
    return [StaffOut.of(account) for account in list_staff(unit.session, unit.now)]


@router.post("/staff", status_code=201)
def add_staff_account(body: StaffIn, _admin: AdminStaff, unit: UnitDep) -> StaffOut:
    """Add an account; the password is hashed with argon2id and never returned."""
    created = create_staff(
        unit,
        body.name.strip(),
        role=body.role,
        password=body.password,
        sites=body.sites,
        language=body.language,
    )
    return _account(unit, created.name)


@router.post("/staff/{name}/deactivate")
def deactivate_staff_account(
    name: UserName, body: DeactivateIn, _admin: AdminStaff, unit: UnitDep
) -> StaffOut:
    """Lock the account out: its sessions end and its API tokens stop working at once."""
    deactivate(unit, name, reason=body.reason)
    return _account(unit, name)


@router.put("/staff/{name}/sites")
def set_staff_sites(name: UserName, body: SitesIn, _admin: AdminStaff, unit: UnitDep) -> StaffOut:
    """The sites the account works at from its next request on (an empty list: all sites)."""
    set_sites(unit, name, body.sites, reason=body.reason)
    return _account(unit, name)


@router.post("/staff/{name}/unlock")
def unlock_staff_account(
    name: UserName, body: ReasonIn, _admin: AdminStaff, unit: UnitDep
) -> StaffOut:
    """Lift a lockout after too many failed logins (and forget the failures), at once."""
    unlock(unit, name, reason=body.reason)
    return _account(unit, name)


@router.post("/staff/{name}/tokens", status_code=201)
def issue_staff_token(
    name: UserName, body: TokenIn, response: Response, _admin: AdminStaff, unit: UnitDep
) -> TokenOut:
    """A new API token acting as ``name``, shown in this answer only."""
    token = issue_api_token(unit, name, label=body.label, days=body.days)
    issued = list_tokens(unit.session, name)[-1]
    response.headers["Cache-Control"] = "no-store"
    return TokenOut(name=name, token=token, id=issued.id or 0, expires_at=issued.expires_at)


@router.get("/staff/{name}/tokens")
def staff_tokens(name: UserName, _admin: AdminStaff, unit: UnitDep) -> list[TokenInfo]:
    """Every API token of the account, live or not, with its expiry and last use."""
    return [TokenInfo.of(row) for row in list_tokens(unit.session, name)]


@router.post("/staff/{name}/tokens/{token_id}/revoke")
def revoke_staff_token(
    name: UserName,
    token_id: Annotated[int, Path(ge=1, le=2**31 - 1, description="The token's id")],
    body: ReasonIn,
    _admin: AdminStaff,
    unit: UnitDep,
) -> TokenInfo:
    """Revoke one token of the account: it stops working at once, the others go on."""
    return TokenInfo.of(revoke_api_token(unit, name, token_id, reason=body.reason))


@router.get("/reminders/outbox")
def reminder_outbox(
    _admin: AdminStaff,
    unit: UnitDep,
    limit: Annotated[int, Query(ge=1, le=500, description="Failures listed at most")] = 200,
) -> OutboxStatus:
    """Reminders per status, the next one due, and those retrying or given up with their last
    error: the report of the Reminders page and ``dosing reminders status``."""
    return outbox_status(unit.session, limit=limit)
