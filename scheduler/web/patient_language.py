"""Template context for a page a patient reads, in the patient's language.

Jinja2's i18n extension (``{% trans %}``) calls ``gettext`` / ``ngettext`` from the context;
these are the subject's catalogue's, in the "new style" the environment is set to: the
translated text is formatted with the block's variables (``%(name)s``), escaped first when the
template autoescapes, so a translation cannot inject markup.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from scheduler.i18n import wording


def _format(context: Context, text: str, variables: dict[str, Any]) -> str:
    if context.eval_ctx.autoescape:
        text = Markup(text)
    return text % variables if variables else text


def patient_language(language: str) -> dict[str, Any]:
    """``gettext``, ``ngettext``, ``day``, ``short_day``, ``time`` and ``html_lang``."""
    words = wording(language)

    @pass_context
    def gettext(context: Context, message: str, **variables: Any) -> str:
        return _format(context, words.gettext(message), variables)

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, count: int, **variables: Any) -> str:
        variables.setdefault("num", count)
        return _format(context, words.ngettext(singular, plural, count), variables)

    helpers: dict[str, Callable[..., str]] = {
        "gettext": gettext,
        "ngettext": ngettext,
        "day": words.day,
        "short_day": words.short_day,
        "time": words.time,
    }
    return {**helpers, "html_lang": words.html_lang, "wording": words}
