"""A refused form as a person sees it: the services speak the CLI's language ("give
--reason"), a page has fields. ``FieldProblem`` carries what the error summary at the top of the
page and the message next to the field both need (``templates/_errors.html``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from scheduler.errors import InputError

_OPTION = re.compile(r"--([a-z][a-z0-9-]*)")
_FIELD_WORDS = {
    "reason": "a reason",
    "surgery": "the surgery date",
    "c1d1": "the cycle 1 day 1 date",
    "tz": "the time zone",
    "dose-time": "the dose time",
    "protocol": "the protocol",
    "site": "the site",
}


def page_reason(reason: str) -> str:
    """``give --reason`` becomes ``give a reason``: the page has a field, not an option."""
    return _OPTION.sub(lambda m: _FIELD_WORDS.get(m.group(1), f"the {m.group(1)} field"), reason)


@dataclass(frozen=True)
class FieldProblem:
    """A refused value of form ``form``: ``anchor`` is the id the summary links to and the
    page focuses (the field's input when the form shows that field, else the form)."""

    form: str
    field: str
    reason: str
    on_a_field: bool

    @property
    def anchor(self) -> str:
        return f"{self.form}-{self.field}" if self.on_a_field else f"{self.form}-form"


def field_problem(form: str, exc: InputError, fields: tuple[str, ...]) -> FieldProblem:
    return FieldProblem(form, exc.field, page_reason(exc.reason), exc.field in fields)
