"""The one Jinja2 environment every page renders with, so features share one set of layouts
and one way of printing a status in words (``{{ plan.status|words }}``)."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from scheduler.web.labels import words

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.filters["words"] = words
