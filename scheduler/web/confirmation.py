"""The preview every irreversible action goes through on the web: what will change, a reason
(required, non-blank) and a ticked confirmation. The POST that acts checks both again
(``require_confirmation``), so a form posted without the preview is refused and stores
nothing."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import Request
from fastapi.responses import Response

from scheduler.errors import InputError
from scheduler.kernel.validation import check_text
from scheduler.web.rendering import TEMPLATES


def require_confirmation(reason: str, confirm: str) -> str:
    """The reason, once the confirmation box was ticked; else an InputError naming the field."""
    reason = check_text("reason", reason, required=True)
    if confirm != "yes":
        raise InputError("confirm", "review what will change and tick the confirmation")
    return reason


def confirmation_page(
    request: Request,
    *,
    title: str,
    changes: Sequence[str],
    action: str,
    hidden: dict[str, str],
    confirm_label: str,
    button: str,
    cancel: str,
    reason: str = "",
    error: InputError | None = None,
) -> Response:
    context = {
        "title": title,
        "changes": list(changes),
        "action": action,
        "hidden": hidden,
        "confirm_label": confirm_label,
        "button": button,
        "cancel": cancel,
        "reason": reason,
        "error": error,
    }
    status = 200 if error is None else error.http_status
    return TEMPLATES.TemplateResponse(request, "confirm.html", context, status_code=status)
