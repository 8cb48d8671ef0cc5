"""/docs documents the JSON API and nothing else: the pages, the login form and the calendar
feeds are for people and calendar apps, not operations a program should call."""

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from scheduler.web.deps import OPENAPI_URL

# The API's operations, written out: a route that falls out of the schema (or a page that
# falls into it) fails here, not only the generic checks below.
API_OPERATIONS = {
    ("GET", "/api/worklist"),
    ("GET", "/api/audit"),
    ("POST", "/api/subjects"),
    ("GET", "/api/subjects/{code}/plan"),
    ("POST", "/api/subjects/{code}/visits"),
    ("POST", "/api/subjects/{code}/doses"),
    ("POST", "/api/subjects/{code}/adverse-events"),
    ("POST", "/api/subjects/{code}/hold-preview"),
    ("POST", "/api/subjects/{code}/holds"),
    ("POST", "/api/subjects/{code}/resume-preview"),
    ("POST", "/api/subjects/{code}/resumptions"),
    ("POST", "/api/subjects/{code}/discontinuation"),
    ("GET", "/api/subjects/{code}/feed"),
    ("POST", "/api/subjects/{code}/feed"),
    ("POST", "/api/subjects/{code}/feed/revoke"),
    ("GET", "/api/subjects/{code}/reminders"),
    ("PUT", "/api/subjects/{code}/reminders"),
    ("GET", "/api/staff"),
    ("POST", "/api/staff"),
    ("POST", "/api/staff/{name}/deactivate"),
    ("POST", "/api/staff/{name}/tokens"),
    ("GET", "/api/staff/{name}/tokens"),
    ("POST", "/api/staff/{name}/tokens/{token_id}/revoke"),
    ("PUT", "/api/staff/{name}/sites"),
    ("POST", "/api/staff/{name}/unlock"),
    ("GET", "/api/reminders/outbox"),
    ("GET", "/api/subjects/{code}/signatures"),
    ("GET", "/api/subjects/{code}/labs"),
    ("POST", "/api/subjects/{code}/labs"),
    ("POST", "/api/subjects/{code}/labs/baselines"),
    ("GET", "/api/subjects/{code}/day1/{cycle}"),
    ("POST", "/api/subjects/{code}/day1/{cycle}/confirm"),
    ("GET", "/api/subjects/{code}/eligibility"),
    ("POST", "/api/subjects/{code}/eligibility/answers"),
    ("POST", "/api/subjects/{code}/eligibility/waivers"),
    ("POST", "/api/subjects/{code}/screen-failure"),
    ("GET", "/api/screening-log"),
    ("GET", "/api/subjects/{code}/appointments"),
    ("POST", "/api/subjects/{code}/appointments"),
    ("GET", "/api/subjects/{code}/appointments/{visit}/slots"),
    ("GET", "/api/appointments"),
    ("GET", "/api/clinics/{site}"),
    ("PUT", "/api/clinics/{site}"),
    ("GET", "/api/subjects/{code}/patient-link"),
    ("POST", "/api/subjects/{code}/patient-link"),
    ("POST", "/api/subjects/{code}/patient-link/revoke"),
    ("POST", "/api/subjects/{code}/patient-link/alert"),
    ("GET", "/api/subjects/{code}/patient-reports"),
    ("POST", "/api/subjects/{code}/patient-reports/{report_id}/review"),
}


def _documented(web_app) -> set[tuple[str, str]]:
    schema = web_app.openapi()
    return {(method.upper(), path) for path, ops in schema["paths"].items() for method in ops}


def _api_routes(routes) -> set[tuple[str, str]]:
    """Every (method, path) the app serves under /api/, however routers are nested."""
    found: set[tuple[str, str]] = set()
    for route in routes:
        if hasattr(route, "original_router"):  # an included router (FastAPI >= 0.120)
            prefix = route.include_context.prefix
            found |= {(m, prefix + p) for m, p in _api_routes(route.original_router.routes)}
        elif isinstance(route, APIRoute):
            found |= {(method, route.path) for method in route.methods}
    return {(m, p) for m, p in found if p.startswith("/api/") and p != OPENAPI_URL}


def test_every_path_in_the_schema_is_under_api(web_app):
    documented = _documented(web_app)
    assert documented and all(path.startswith("/api/") for _, path in documented)


def test_every_api_operation_is_in_the_schema(web_app):
    documented = _documented(web_app)
    assert _api_routes(web_app.router.routes) == documented == API_OPERATIONS


def test_the_docs_and_the_schema_need_a_login(web_app, staff_client):
    anonymous = TestClient(web_app)
    docs = anonymous.get("/docs", follow_redirects=False)
    assert docs.status_code == 303 and docs.headers["location"] == "/login?next=%2Fdocs"
    refused = anonymous.get(OPENAPI_URL)
    assert refused.status_code == 401 and "paths" not in refused.text
    nurse = staff_client("nurse")
    assert nurse.get("/docs").status_code == 200  # the session cookie, in a browser
    by_cookie = TestClient(web_app, cookies={"dosing_session": nurse.cookies["dosing_session"]})
    assert by_cookie.get(OPENAPI_URL).json() == web_app.openapi()
    by_token = TestClient(web_app, headers={"Authorization": f"Bearer {nurse.token}"})
    assert by_token.get(OPENAPI_URL).json() == web_app.openapi()


def test_the_pages_are_served_but_not_documented(web_app, staff_client):
    documented = {path for _, path in _documented(web_app)}
    nurse = staff_client("nurse")
    for page in ("/", "/overview", "/pharmacy", "/audit", "/subjects/DEMO-002/feed", "/login"):
        assert nurse.get(page).status_code == 200, page
        assert page not in documented
