"""What the web kit gives every JSON API operation, whichever feature's router it is in: request
bodies that take each JSON type only as itself and no unknown key, free text and dates whose
rules the schema states, one error body for every refusal (the framework's own included), all
of it declared in the OpenAPI schema, and a 405 whose ``Allow`` names every method of the path.
"""

from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from sqlmodel import func, select

from scheduler.models import AuditEntry
from scheduler.web.api_docs import declare_refusals
from scheduler.web.api_types import DAY_PATTERN, ERRORS, ApiModel, Day, RequiredReason

DOSE = "/api/subjects/DEMO-002/doses"


@pytest.fixture
def nurse(staff_client):
    return staff_client("nurse")


def _audit_rows(units) -> int:
    with units() as unit:
        return unit.session.exec(select(func.count()).select_from(AuditEntry)).one()


def _refusal(response, status: int, field: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"field", "reason"}
    assert body["error"]["field"] == field
    return str(body["error"]["reason"])


@pytest.mark.parametrize("taken", [0, 1, "true", "false", None])
def test_a_boolean_is_only_true_or_false(nurse, units, taken):
    before = _audit_rows(units)
    response = nurse.post(DOSE, json={"date": "2026-03-02", "taken": taken})
    _refusal(response, 422, "taken")
    assert _audit_rows(units) == before


@pytest.mark.parametrize("slot", ["1", True, 1.5])
def test_a_number_is_only_a_json_number(nurse, slot):
    response = nurse.post(DOSE, json={"date": "2026-03-02", "taken": True, "slot": slot})
    _refusal(response, 422, "slot")


def test_an_integer_written_as_1_0_is_the_integer_1(nurse):
    response = nurse.post(DOSE, json={"date": "2026-03-02", "taken": True, "slot": 1.0})
    assert response.status_code == 201, response.text


def test_an_unknown_key_is_refused_naming_it_and_nothing_is_stored(nurse, units):
    before = _audit_rows(units)
    response = nurse.post(DOSE, json={"date": "2026-03-02", "taken": True, "reasn": "typo"})
    _refusal(response, 422, "reasn")
    assert _audit_rows(units) == before


def test_free_text_with_a_direction_override_is_refused_naming_the_field(nurse):
    body = {"start": "2026-03-02", "reason": "rash \u202eesolpmet"}
    response = nurse.post("/api/subjects/DEMO-002/hold-preview", json=body)
    assert "U+202E" in _refusal(response, 422, "reason")


def test_a_required_reason_of_white_space_is_refused(nurse):
    body = {"start": "2026-03-02", "reason": "   "}
    response = nurse.post("/api/subjects/DEMO-002/hold-preview", json=body)
    assert _refusal(response, 422, "reason") == "must not be empty"


@pytest.mark.parametrize(
    ("content", "status", "field"),
    [(b"\xbc\x166w", 400, "body"), (b"{not json", 422, "body"), (b"[]", 422, "body")],
)
def test_a_body_that_cannot_be_read_gets_the_one_error_shape(nurse, content, status, field):
    response = nurse.post(DOSE, content=content, headers={"content-type": "application/json"})
    _refusal(response, status, field)


def test_a_method_a_path_does_not_take_is_a_405_allowing_every_method_it_does(staff_client):
    admin = staff_client("admin")
    response = admin.delete("/api/staff")
    assert "DELETE" in _refusal(response, 405, "method")
    assert set(response.headers["allow"].split(", ")) >= {"GET", "POST"}
    tokens = admin.put("/api/staff/test-admin/tokens")
    assert set(tokens.headers["allow"].split(", ")) >= {"GET", "POST"}


def test_an_unknown_api_address_is_a_404_in_the_error_shape(nurse):
    _refusal(nurse.get("/api/no-such-operation"), 404, "path")


def test_every_api_operation_declares_every_refusal_with_the_error_body(web_app):
    schema = web_app.openapi()
    operations = [op for path, ops in schema["paths"].items() for op in ops.values()]
    assert len(operations) >= 25
    for operation in operations:
        responses = operation["responses"]
        assert {str(status) for status in ERRORS} <= set(responses)
        for status, response in responses.items():
            if status.startswith("4"):
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/ErrorOut"
    assert "HTTPValidationError" not in schema["components"]["schemas"]


def test_every_date_the_api_takes_is_limited_to_1900_2199_in_the_schema(web_app):
    schema = web_app.openapi()
    dates = [
        prop
        for component in schema["components"]["schemas"].values()
        for prop in component.get("properties", {}).values()
        if prop.get("format") == "date"
    ]
    dates += [
        parameter["schema"]
        for ops in schema["paths"].values()
        for op in ops.values()
        for parameter in op.get("parameters", [])
        if parameter["schema"].get("anyOf", [{}])[0].get("format") == "date"
        or parameter["schema"].get("format") == "date"
    ]
    assert len(dates) >= 7
    for prop in dates:
        assert DAY_PATTERN in str(prop)


@pytest.mark.parametrize(
    ("text", "matches"),
    [("1900-01-01", True), ("2199-12-31", True), ("1899-12-31", False), ("2200-01-01", False)],
)
def test_the_date_pattern_is_the_range_parse_date_takes(text, matches):
    import re

    assert bool(re.fullmatch(DAY_PATTERN, text)) is matches


def test_every_api_request_body_is_an_api_model(web_app):
    routes = [context.original_route for context in iter_route_contexts(web_app.routes)]
    bodies = [
        route.body_field
        for route in routes
        if isinstance(route, APIRoute) and route.path.startswith("/api/") and route.body_field
    ]
    assert len(bodies) >= 14
    for body in bodies:
        assert issubclass(body.field_info.annotation, ApiModel), body


class _NewThingIn(ApiModel):
    on: Day
    urgent: bool
    reason: RequiredReason


def test_a_new_endpoint_gets_it_all_without_declaring_anything():
    """A router written without ``responses=ERRORS``: the schema still declares every refusal
    with the error body, and its body model reads JSON as every other does."""
    app = FastAPI()

    @app.post("/api/things")
    def add_thing(body: _NewThingIn) -> dict[str, str]:
        return {"on": body.on.isoformat()}

    responses = declare_refusals(app.openapi())["paths"]["/api/things"]["post"]["responses"]
    assert {str(status) for status in ERRORS} <= set(responses)
    assert "additionalProperties" in str(app.openapi()["components"]["schemas"]["_NewThingIn"])
    with pytest.raises(ValueError, match="urgent"):
        _NewThingIn.model_validate({"on": "2026-03-02", "urgent": 0, "reason": "x"})
    with pytest.raises(ValueError, match="outside 1900-2199"):
        _NewThingIn.model_validate({"on": "2200-01-01", "urgent": True, "reason": "x"})
    made = _NewThingIn.model_validate({"on": "2026-03-02", "urgent": True, "reason": " x "})
    assert made.on == date(2026, 3, 2) and made.reason == "x"
