"""The one Jinja2 environment every page renders with, so features share one set of layouts
and one way of printing a status in words (``{{ plan.status|words }}``)."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from scheduler.web.labels import words

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
# Patient-facing templates mark their text with {% trans %}; the page passes the patient's
# ``gettext``/``ngettext`` (``patient_language``), so one environment serves every language.
TEMPLATES.env.add_extension("jinja2.ext.i18n")
TEMPLATES.env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
TEMPLATES.env.filters["words"] = words
