"""Fuzzing the JSON API from its own OpenAPI schema with schemathesis, in-process (ASGI), the way
``st run --checks all`` does: every phase (the schema's examples, the coverage phase's edge and
invalid values, random fuzzing, stateful sequences), valid and invalid data, and every check
schemathesis has (no server error, documented status codes, headers and content types, answers
that match their schema, schema-valid data accepted, invalid data refused, a complete ``Allow``
on a 405, authentication not ignored, ...). The answer must be 0 failures.

Calls carry an investigator's token (who may call every operation but the admin's) or, for the
operations tagged ``admin``, an admin's. Most valid generated subject codes are replaced with
the demo's, so requests reach the services instead of stopping at "no subject". A bounded
number of examples per operation keeps the run to a minute or so per database; the edge of the
calendar is also sent on purpose by ``test_api_boundary_dates.py``.

The engine runs the operations itself rather than through ``schemathesis.pytest.from_fixture``,
whose lazy loader does not run under this pytest version (it reads ``Function._nodeid``)."""

import re
from typing import Any

import schemathesis
from schemathesis.engine import events, from_schema
from schemathesis.engine.statistic import Statistic

from scheduler.app.demo import DEMO_CODES
from scheduler.kernel.validation import CODE_PATTERN

MAX_EXAMPLES = 25
PHASES = ("examples", "coverage", "fuzzing", "stateful")
EVERY_CHECK = {
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "positive_data_acceptance",
    "negative_data_rejection",
    "missing_required_header",
    "ignored_auth",
    "unsupported_method",
    "allow_header_conformance",
    "use_after_free",
    "ensure_resource_availability",
    "object_level_authorization",
}
"""Every check schemathesis has that applies to a single response or a sequence (all but
``max_response_time``, which needs a limit to be set); the test fails if one stops running."""
SUBJECT_RECORD = r"^/api/(subjects(/\{code\}/|$)|clinics/)"
ACCEPTED = ["2xx", "401", "403", "404", "409", "422"]
"""What schema-valid data may get from an operation on a subject's record, or from enrolling
one: a date or dose the schema allows can still be impossible for this subject (before
screening, after the end of the plan, in the future, not a dose level of the protocol, a C1D1
before the surgery, a time zone that does not exist), refused with 422 naming the field, as the
CLI does; and from a clinic's set-up, a combination the schema cannot express (closing
before opening). Everywhere else schema-valid data must be taken (schemathesis's default)."""


def _config(investigator: str, admin: str) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "headers": {"Authorization": f"Bearer {investigator}"},
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "mode": "all"},
            "checks": {"enabled": True},
            "phases": {phase: {"enabled": True} for phase in PHASES},
            "workers": 1,
            "operations": [
                {"include-tag": "admin", "headers": {"Authorization": f"Bearer {admin}"}},
                {
                    "include-path-regex": SUBJECT_RECORD,
                    "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}},
                },
            ],
        }
    )


def _demo_subjects(_context: Any, path_parameters: dict[str, Any]) -> dict[str, Any]:
    """Most valid subject codes become a demo subject's; an invalid one is left as generated, as
    the check that it is refused expects."""
    code = (path_parameters or {}).get("code")
    if isinstance(code, str) and re.fullmatch(CODE_PATTERN, code):
        choice = len(code) % (len(DEMO_CODES) + 1)
        if choice < len(DEMO_CODES):
            return {**path_parameters, "code": DEMO_CODES[choice]}
    return path_parameters


def test_the_api_answers_as_its_schema_says_under_every_check(web_app, staff_client):
    admin = staff_client("admin").token
    investigator = staff_client("investigator").token
    schema = schemathesis.openapi.from_asgi(
        "/api/openapi.json",
        web_app,
        config=_config(investigator, admin),
        headers={"Authorization": f"Bearer {admin}"},
    )
    schema.hook("map_path_parameters")(_demo_subjects)
    statistic = Statistic()
    errors = []
    ran: set[str] = set()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            statistic.on_scenario_finished(event.recorder)
            ran.update(check.name for checks in event.recorder.checks.values() for check in checks)
        elif isinstance(event, events.NonFatalError | events.FatalError):
            errors.append(event)
    failures = [
        f"{failure.operation}: {failure.title}\n{failure.message}"
        for failure in statistic.unique_failures_map
    ]
    assert not errors
    assert ran >= EVERY_CHECK
    assert len(statistic.tested_operations) >= 25 and statistic.total_cases > 25 * 25
    assert failures == []
