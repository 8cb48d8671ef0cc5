"""/docs in real Chromium with every request to another host refused: Swagger UI still lists
the API's operations (it comes from the package, not a CDN)."""

import pytest

pytestmark = pytest.mark.slow


def test_the_api_docs_work_offline(log_in_as, server):
    page = log_in_as("demo-nurse")
    elsewhere: list[str] = []

    def only_this_server(route):
        if route.request.url.startswith(server):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.context.route("**/*", only_this_server)
    page.goto("/docs")
    page.locator(".opblock-summary-path").first.wait_for(timeout=15000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/worklist" in [p.replace("\u200b", "") for p in paths]
    assert elsewhere == []
