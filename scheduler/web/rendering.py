"""The one Jinja2 environment every page renders with, so features share one set of layouts,
one way of printing a status in words (``{{ plan.status|words }}``) and one way of giving a
page its reader's language (``web.page_language``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.background import BackgroundTask
from starlette.templating import _TemplateResponse

from scheduler.web.labels import page_words
from scheduler.web.page_language import page_language, reader_language


class PageTemplates(Jinja2Templates):
    """Templates rendered in the reader's language: every page gets the ``gettext``,
    ``ngettext``, date and time helpers of its reader (``page_language``) unless its context
    names another language's (a patient's handout)."""

    def TemplateResponse(
        self,
        request: Request,
        name: str,
        context: dict[str, Any] | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> _TemplateResponse:
        chosen = {**page_language(reader_language(request)), **(context or {})}
        return super().TemplateResponse(
            request, name, chosen, status_code, headers, media_type, background
        )


TEMPLATES = PageTemplates(directory=str(Path(__file__).parent / "templates"))
# Templates mark their text with {% trans %}; TemplateResponse passes the reader's
# ``gettext``/``ngettext`` (``page_language``), so one environment serves every language.
TEMPLATES.env.add_extension("jinja2.ext.i18n")
TEMPLATES.env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
TEMPLATES.env.filters["words"] = page_words
