"""What every JSON API route shares: the base of its request bodies, the documented error
answers and the value types whose rules must match the CLI's and the pages' (a date is read by
``parse_date``, not by pydantic, which would also take ``0`` or ``2026-03-02T00:00:00`` as
dates; free text by ``check_text``).

The schema must say what the services accept, no more and no less: a client generating requests
from it (schemathesis does) finds every refusal of a value the schema allows, and every value the
schema forbids but the server takes. So each type here carries its rule twice, as the validator
that enforces it and as the JSON Schema keywords (``pattern``, lengths) that describe it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from scheduler.errors import InputError
from scheduler.kernel.validation import (
    CODE_PATTERN,
    CONTROL_CHARACTERS,
    EARLIEST,
    LATEST,
    check_text,
    parse_date,
)


def _json_number(value: object) -> object:
    if isinstance(value, str | bool):
        raise PydanticCustomError("number_type", "expected a number, not {kind}", {"kind": value})
    return value


def _exact_json_types(node: object) -> None:
    """Make a model's core schema take each JSON type only as itself: a boolean only ``true`` or
    ``false`` (pydantic would read ``0``, ``1``, ``"true"`` or ``"no"`` as one), a number only a
    JSON number (not ``"5"``, not ``true``). Not pydantic's strict mode, which would also refuse
    ``1.0`` for an integer, which JSON Schema counts as one."""
    if isinstance(node, dict):
        function = node.get("function")
        if isinstance(function, dict) and function.get("function") is _json_number:
            return  # already made exact (a model's schema is built more than once)
        for value in list(node.values()):
            _exact_json_types(value)
        if node.get("type") == "bool":
            node["strict"] = True
        elif node.get("type") in ("int", "float"):
            number = dict(node)
            node.clear()
            node.update(core_schema.no_info_before_validator_function(_json_number, number))
    elif isinstance(node, list):
        for value in node:
            _exact_json_types(value)


class ApiModel(BaseModel):
    """The base of every JSON request body, so that a new endpoint's body reads JSON as the
    others do: each JSON type only as itself (``0`` is not ``false``; a client that sends it has
    a bug the API must not guess around), and a key the model does not know is refused rather
    than dropped (a misspelt ``reason`` would otherwise record a correction without one); the
    schema says so (``additionalProperties: false``)."""

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[BaseModel], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        schema = handler(source)
        _exact_json_types(schema)
        return schema


class ErrorDetail(BaseModel):
    field: str = Field(description="The name the caller used: a JSON key or query parameter")
    reason: str


class ErrorOut(BaseModel):
    error: ErrorDetail


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "The body cannot be read (not UTF-8)"},
    401: {"model": ErrorOut, "description": "No token, or an unknown or revoked one"},
    403: {"model": ErrorOut, "description": "The token's role does not allow this"},
    404: {"model": ErrorOut, "description": "No such subject (or visit, adverse event, user)"},
    409: {
        "model": ErrorOut,
        "description": "Clashes with what is recorded, or breaks a protocol rule",
    },
    422: {
        "model": ErrorOut,
        "description": "A value is malformed or impossible, or the body is not JSON: the field "
        "and the reason",
    },
}
"""The refusals every API operation may answer, each with the body ``ErrorOut``. ``api_docs``
adds them to every operation under /api, whichever router it comes from."""


def _iso_day(value: object) -> date:
    if not isinstance(value, str | date):
        raise PydanticCustomError("date_type", "expected a date, YYYY-MM-DD")
    try:
        return parse_date("date", value)
    except InputError as exc:
        raise PydanticCustomError("date", "{reason}", {"reason": exc.reason}) from None


def _year_pattern(first: int, last: int) -> str:
    """A regular expression for the four-digit years ``first``..``last``, whole centuries
    (1900..2199 is ``(19|20|21)[0-9]{2}``): JSON Schema has no bounds for a ``format: date``
    string, so the range is written into its ``pattern``."""
    if first % 100 or (last + 1) % 100:
        raise ValueError(f"{first}..{last} is not a run of whole centuries")
    centuries = "|".join(str(century) for century in range(first // 100, (last + 1) // 100))
    return f"({centuries})[0-9]{{2}}"


DAY_PATTERN = (
    f"^{_year_pattern(EARLIEST.year, LATEST.year)}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
)
Day = Annotated[
    date,
    BeforeValidator(_iso_day),
    Field(
        description=f"YYYY-MM-DD, {EARLIEST} to {LATEST}",
        json_schema_extra={"pattern": DAY_PATTERN},
    ),
]
Code = Annotated[
    str,
    Field(
        pattern=CODE_PATTERN,
        description="1-32 letters, digits, '-', '_' or '.', starting with a letter or digit",
    ),
]
"""A subject, site or protocol code, as ``check_code`` takes it."""
ClockTime = Annotated[str, Field(pattern=r"^\d{2}:\d{2}$", description="Local time, HH:MM")]
_TYPED = f"[^{CONTROL_CHARACTERS}]"
"""A character a person may type into free text: not a control character (line breaks aside) nor
a bidirectional override, as ``check_text`` refuses them."""


@dataclass(frozen=True)
class Text:
    """Free text as ``check_text`` takes it, for ``Annotated[str, Text(...)]``: no control
    character or direction override, at most ``limit`` characters, and, if ``required``, one
    that is not white space. The route sees the value the services store (line ends made
    ``\\n``, trimmed); the schema carries the rule as ``pattern`` and lengths."""

    limit: int = 500
    required: bool = False

    def _check(self, value: str) -> str:
        try:
            return check_text("text", value, required=self.required, limit=self.limit)
        except InputError as exc:
            raise PydanticCustomError("text", "{reason}", {"reason": exc.reason}) from None

    def __get_pydantic_core_schema__(
        self, source: type[Any], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        raw = core_schema.str_schema(min_length=1 if self.required else 0, max_length=self.limit)
        return core_schema.no_info_after_validator_function(self._check, raw)

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        described = handler(schema)
        typed = f"[^{CONTROL_CHARACTERS}\\s]" if self.required else ""
        described["pattern"] = f"^{_TYPED}*{typed}{_TYPED}*$" if typed else f"^{_TYPED}*$"
        return described


Reason = Annotated[str, Text()]
"""An optional reason or note: may be empty."""
RequiredReason = Annotated[str, Text(required=True)]
"""A reason the record cannot do without."""
