"""Security headers on every answer: a Content-Security-Policy that allows no inline script,
no Referer sent anywhere, nothing of a patient's kept in a browser's cache, and HSTS over
https. /docs starts Swagger UI from a file, not an inline script."""

import re
from pathlib import Path

from fastapi.testclient import TestClient
from web_routes import paths_of

import scheduler.web
from scheduler.web.security_headers import CONTENT_SECURITY_POLICY

TEMPLATES = Path(scheduler.web.__file__).parent / "templates"


def _script_src(policy: str) -> str:
    return next(p for p in policy.split(";") if p.strip().startswith("script-src"))


def test_every_page_forbids_inline_script_and_is_not_cached(web_app, staff_client):
    admin, nurse = staff_client("admin"), staff_client("nurse")
    pages = sorted(p.replace("{code}", "DEMO-002") for p in paths_of(web_app, "GET"))
    pages = [p for p in pages if "{" not in p and not p.startswith("/api/")]
    assert {"/", "/subjects/DEMO-002", "/audit", "/admin/staff", "/docs"} <= set(pages)
    for page in pages:
        answer = (admin if page.startswith("/admin") else nurse).get(page)
        # A preview without its date is a 422, a resumption's is the investigator's (403).
        assert answer.status_code in (200, 403, 422), page
        policy = answer.headers["content-security-policy"]
        assert "'unsafe-inline'" not in _script_src(policy), page
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy, page
        assert answer.headers["referrer-policy"] == "no-referrer", page
        assert answer.headers["cache-control"] == "no-store", page
        assert "strict-transport-security" not in answer.headers, page
    assert nurse.get("/api/subjects/DEMO-002/plan").headers["cache-control"] == "no-store"


def test_no_template_carries_an_inline_script_or_event_handler():
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert not re.search(r"\son[a-z]+\s*=", text), template.name
        assert "javascript:" not in text, template.name


def test_hsts_is_sent_over_https_only(web_app):
    assert "strict-transport-security" not in TestClient(web_app).get("/login").headers
    secure = TestClient(web_app, base_url="https://testserver").get("/login")
    assert secure.headers["strict-transport-security"] == "max-age=31536000"
    assert secure.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_the_docs_page_loads_swagger_ui_from_a_file_not_an_inline_script(staff_client):
    nurse = staff_client("nurse")
    docs = nurse.get("/docs")
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", docs.text, re.S)
    assert scripts and all(
        "src=" in attributes and not body.strip() for attributes, body in scripts
    )
    assert "'unsafe-inline'" not in _script_src(docs.headers["content-security-policy"])
    starter = nurse.get("/static/docs.js")
    assert starter.status_code == 200 and "SwaggerUIBundle" in starter.text
    assert "no-store" not in starter.headers.get("cache-control", "")


def test_the_calendar_feed_keeps_its_own_caching(web_app, staff_client):
    nurse = staff_client("nurse")
    url = nurse.post("/api/subjects/DEMO-002/feed", json={}).json()["https"]
    feed = TestClient(web_app).get("/feeds/" + url.rsplit("/feeds/", 1)[1])
    assert feed.status_code == 200 and feed.headers["cache-control"] == "private"
    assert feed.headers["referrer-policy"] == "no-referrer"


def test_the_docs_page_needs_nothing_from_another_host(staff_client):
    """/docs works offline: Swagger UI is served from the package, under the app's own policy."""
    nurse = staff_client("nurse")
    docs = nurse.get("/docs")
    assert docs.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert assets and all(a.startswith("/static/") for a in assets)
    for asset in assets:
        served = nurse.get(asset)
        assert served.status_code == 200 and len(served.content) > 100, asset
