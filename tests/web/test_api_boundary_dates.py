"""The edge of the calendar, sent on purpose to every date the API takes: schemathesis's random
examples never tried ``9999-12-31``, which overflowed the worklist's date arithmetic (a 500).
The date fields are read from the app's own OpenAPI schema, so a new operation with a date is
covered without touching this file. Everything else in a request is filled in validly, so the
date is what the answer is about."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

OUTSIDE = ["0001-01-01", "1899-12-31", "2200-01-01", "9999-12-31", "20260302", "2026-W10-1"]
INSIDE = ["1900-01-01", "2199-12-31"]
TODAY = "2026-03-02"
PATH = {"code": "DEMO-002", "cycle": 2}


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    if "anyOf" in node:
        return _resolve(schema, next(n for n in node["anyOf"] if n.get("type") != "null"))
    return node


def _valid(schema: dict[str, Any], node: dict[str, Any]) -> Any:
    """A value the schema accepts, preferring the demo's today for dates."""
    node = _resolve(schema, node)
    if "enum" in node:
        return node["enum"][0]
    kind = node.get("type")
    if kind == "object":
        props = node.get("properties", {})
        return {name: _valid(schema, props[name]) for name in node.get("required", ())}
    if kind == "string":
        if node.get("format") == "date":
            return TODAY
        return "08:00" if node.get("pattern") == r"^\d{2}:\d{2}$" else "x"
    if kind == "boolean":
        return True
    if kind == "array":
        return []
    if kind in ("integer", "number"):
        return node.get("minimum", 1)
    raise AssertionError(f"no valid value for {node}")


def _url(schema: dict[str, Any], path: str, operation: dict[str, Any]) -> str:
    """The path with each of its parameters filled in validly: the demo's subject, a cycle the
    plan has, otherwise what the parameter's schema accepts. A parameter left as ``{name}``
    would be refused for itself, before the date is read."""
    values = {
        param["name"]: PATH.get(param["name"], _valid(schema, param["schema"]))
        for param in operation.get("parameters", ())
        if param["in"] == "path"
    }
    return path.format(**values)


def _date_inputs(schema: dict[str, Any]) -> list[tuple[str, str, str, str, str, Any]]:
    """(method, path, url, where, field, valid body) for every date the API takes."""
    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            url = _url(schema, path, operation)
            for param in operation.get("parameters", ()):
                if _resolve(schema, param["schema"]).get("format") == "date":
                    found.append((method, path, url, "query", param["name"], None))
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                body_schema = _resolve(schema, content["application/json"]["schema"])
                body = _valid(schema, body_schema)
                for name, node in body_schema.get("properties", {}).items():
                    if _resolve(schema, node).get("format") == "date":
                        found.append((method, path, url, "body", name, body))
    return found


@pytest.fixture
def api(web_app, staff_client):
    token = staff_client("investigator").token
    return TestClient(web_app, headers={"Authorization": f"Bearer {token}"})


def _send(api, method, url, where, field, body, value):
    if where == "query":
        return api.request(method.upper(), url, params={field: value})
    return api.request(method.upper(), url, json={**body, field: value})


def test_every_date_the_api_takes_refuses_the_edge_of_the_calendar_naming_the_field(web_app, api):
    inputs = _date_inputs(api.get("/api/openapi.json").json())
    # The worklist's date and at least the recording operations' dates were found, the one
    # after a path parameter besides the subject too.
    assert {(p, f) for _, p, _, _, f, _ in inputs} >= {
        ("/api/worklist", "date"),
        ("/api/subjects/{code}/doses", "date"),
        ("/api/subjects/{code}/holds", "start"),
        ("/api/subjects/{code}/resumptions", "on"),
        ("/api/subjects/{code}/day1/{cycle}/confirm", "on"),
    }
    for method, path, url, where, field, body in inputs:
        for value in OUTSIDE:
            response = _send(api, method, url, where, field, body, value)
            where_ = f"{method} {path} {field}={value}"
            assert response.status_code == 422, (where_, response.text)
            assert response.json()["error"]["field"] == field, where_


def test_the_first_and_last_day_allowed_pass_the_date_rule_and_never_fail_the_server(web_app, api):
    for method, path, url, where, field, body in _date_inputs(api.get("/api/openapi.json").json()):
        for value in INSIDE:
            response = _send(api, method, url, where, field, body, value)
            assert response.status_code < 500, (method, path, field, value, response.text)
            reason = response.json().get("error", {}).get("reason", "")
            assert "outside" not in reason and "YYYY-MM-DD" not in reason  # a rule may refuse
