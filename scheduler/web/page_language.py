"""A page's language: the helpers its template reads the page's words with.

One mechanism for every page. ``TEMPLATES`` (``web.rendering``) gives each page the helpers of
its reader's language: the logged-in staff account's, or, before anyone logs in, the browser's
``Accept-Language`` among the languages shipped. A page printed for a patient (the handout)
passes ``page_language(subject.language)`` in its context instead, and that wins.

Jinja2's i18n extension (``{% trans %}``) calls ``gettext`` / ``ngettext`` from the context;
these are the catalogue's, in the "new style" the environment is set to: the translated text is
formatted with the block's variables (``%(name)s``), escaped first when the template
autoescapes, so a translation cannot inject markup. Python code that words a page (notices,
confirmation texts) takes the same catalogue from ``request_wording``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from babel import negotiate_locale
from fastapi import Request
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from scheduler.i18n import LANGUAGES, SOURCE_LANGUAGE, Wording, wording


def _format(context: Context, text: str, variables: dict[str, Any]) -> str:
    if context.eval_ctx.autoescape:
        text = Markup(text)
    return text % variables if variables else text


def page_language(language: str) -> dict[str, Any]:
    """``gettext``, ``ngettext``, ``day``, ``short_day``, ``time``, ``html_lang`` and
    ``wording`` (what the ``words`` filter translates with) of ``language``."""
    words = wording(language)

    @pass_context
    def gettext(context: Context, message: str, **variables: Any) -> str:
        return _format(context, words.gettext(message), variables)

    @pass_context
    def ngettext(
        context: Context, singular: str, plural: str, number: int, /, **variables: Any
    ) -> str:
        # Positional-only: a {% trans count=... %} block passes ``count`` as a variable too.
        variables.setdefault("num", number)
        return _format(context, words.ngettext(singular, plural, number), variables)

    helpers: dict[str, Callable[..., str]] = {
        "gettext": gettext,
        "ngettext": ngettext,
        "day": words.day,
        "short_day": words.short_day,
        "time": words.time,
    }
    return {**helpers, "html_lang": words.html_lang, "wording": words}


def reader_language(request: Request) -> str:
    """The language of whoever reads the page: the staff account's once logged in, else the
    best of the browser's ``Accept-Language`` that ships (English when none does)."""
    staff = getattr(request.state, "staff", None)
    if staff is not None:
        return str(staff.language)
    wanted = [
        part.split(";")[0].strip().replace("-", "_")
        for part in request.headers.get("accept-language", "").split(",")
    ]
    found = negotiate_locale([w for w in wanted if w], LANGUAGES, aliases={"zh": "zh_CN"})
    return found or SOURCE_LANGUAGE


def request_wording(request: Request) -> Wording:
    """The reader's catalogue, for the words a page builds in Python."""
    return wording(reader_language(request))
