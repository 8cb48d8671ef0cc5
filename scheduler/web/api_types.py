"""What every JSON API route shares: the documented error answers and the value types whose
rules must match the CLI's and the pages' (a date is read by ``parse_date``, not by pydantic,
which would also take ``0`` or ``2026-03-02T00:00:00`` as dates)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from scheduler.errors import InputError
from scheduler.kernel.validation import EARLIEST, LATEST, parse_date


class ErrorDetail(BaseModel):
    field: str = Field(description="The name the caller used: a JSON key or query parameter")
    reason: str


class ErrorOut(BaseModel):
    error: ErrorDetail


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No token, or an unknown or revoked one"},
    403: {"model": ErrorOut, "description": "The token's role does not allow this"},
    404: {"model": ErrorOut, "description": "No such subject (or visit, adverse event, user)"},
    409: {
        "model": ErrorOut,
        "description": "Clashes with what is recorded, or breaks a protocol rule",
    },
    422: {
        "model": ErrorOut,
        "description": "A value is malformed or impossible: the field and the reason",
    },
}


def _iso_day(value: object) -> date:
    if not isinstance(value, str | date):
        raise PydanticCustomError("date_type", "expected a date, YYYY-MM-DD")
    try:
        return parse_date("date", value)
    except InputError as exc:
        raise PydanticCustomError("date", "{reason}", {"reason": exc.reason}) from None


Day = Annotated[
    date,
    BeforeValidator(_iso_day),
    Field(description=f"YYYY-MM-DD, {EARLIEST} to {LATEST}"),
]
ClockTime = Annotated[str, Field(pattern=r"^\d{2}:\d{2}$", description="Local time, HH:MM")]
Reason = Annotated[str, Field(max_length=500)]
