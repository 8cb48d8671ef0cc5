"""`dosing serve`: the web application on uvicorn."""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer
import uvicorn

from scheduler.cli.options import DbOption, database_url
from scheduler.settings import get_settings


def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", envvar="PORT", min=1, max=65535, help="TCP port")
    ] = 8000,
    db: DbOption = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers", min=1, help="Web worker processes (each runs its own reminder jobs)"
        ),
    ] = 1,
) -> None:
    """Serve the staff pages, the JSON API and the calendar feeds."""
    from scheduler.app.web import create_app, freeze_startup_heap

    settings = get_settings().model_copy(update={"database_url": database_url(db)})
    if workers > 1:
        # Each worker process builds its own app (and scheduler) from the environment.
        os.environ["DOSING_DATABASE_URL"] = settings.database_url
        uvicorn.run(
            "scheduler.app.serve:served_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
        )
        return
    app = create_app(settings)
    if settings.scheduler_enabled:
        from scheduler.reminders.jobs import attach_to_app

        attach_to_app(app)
    freeze_startup_heap(app)
    uvicorn.run(app, host=host, port=port, log_level="info")


def served_app() -> Any:
    """The web application as one `dosing serve --workers N` process runs it: built from the
    environment, with this process's own reminder jobs unless DOSING_SCHEDULER_ENABLED=false."""
    from scheduler.app.web import create_app, freeze_startup_heap
    from scheduler.reminders.jobs import attach_to_app

    settings = get_settings()
    app = create_app(settings)
    if settings.scheduler_enabled:
        attach_to_app(app)
    freeze_startup_heap(app)
    return app
