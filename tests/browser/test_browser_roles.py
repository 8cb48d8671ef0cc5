"""Roles in a real browser: a pharmacist reads the subject page but may not record."""

import pytest

pytestmark = pytest.mark.slow


def test_a_pharmacist_is_refused_the_nurse_only_visit_form(log_in_as):
    page = log_in_as("demo-pharmacist")
    page.goto("/subjects/DEMO-001")
    assert "Read only" in page.content()
    assert page.get_by_role("button", name="Record visit").count() == 0
    # Post the nurse's form anyway, from the page and with its own session's CSRF token.
    with page.expect_navigation() as refused:
        page.evaluate(
            """() => {
                const form = document.createElement("form");
                form.method = "post";
                form.action = "/subjects/DEMO-001/visits";
                for (const [name, value] of [["code", "SCR"], ["on", "2000-01-01"],
                        ["csrf_token", document.querySelector("input[name=csrf_token]").value]]) {
                    const input = document.createElement("input");
                    input.name = name;
                    input.value = value;
                    form.appendChild(input);
                }
                document.body.appendChild(form);
                form.submit();
            }"""
        )
    assert refused.value.status == 403
    assert page.get_by_role("heading", name="Not allowed").is_visible()
    assert "demo-pharmacist is a pharmacist" in page.get_by_role("alert").inner_text()
