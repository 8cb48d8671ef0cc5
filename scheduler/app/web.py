"""``create_app``: the web shell over the services. Errors are the CLI's hierarchy, answered as
JSON with the field and the reason by the API and as a page for people (``error_pages``)."""

from __future__ import annotations

import asyncio
import gc
import threading

import httpx
from fastapi import FastAPI

from scheduler.app.bootstrap import bootstrap
from scheduler.clock import Clock, SystemClock
from scheduler.migrate import require_current
from scheduler.settings import Settings, get_settings


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    from scheduler.appointments import api as appointments_api
    from scheduler.appointments import pages as appointment_pages
    from scheduler.eligibility import api as eligibility_api
    from scheduler.eligibility import pages as eligibility_pages
    from scheduler.feeds import api as feeds_api
    from scheduler.feeds import endpoint as feed_endpoint
    from scheduler.feeds import pages as feed_pages
    from scheduler.labs import api as labs_api
    from scheduler.labs import pages as lab_pages
    from scheduler.patients import api as patients_api
    from scheduler.patients import pages as patient_pages
    from scheduler.pharmacy import day1_pages, export_pages
    from scheduler.pharmacy import pages as pharmacy_pages
    from scheduler.reminders import api as reminders_api
    from scheduler.reminders import pages as reminder_pages
    from scheduler.signatures import api as signatures_api
    from scheduler.signatures import pages as signature_pages
    from scheduler.staff import api as staff_api
    from scheduler.staff import auth
    from scheduler.staff import pages as staff_pages
    from scheduler.subjects import api as subjects_api
    from scheduler.subjects import audit_pages, enrolment_pages, overview_pages
    from scheduler.subjects import pages as subject_pages
    from scheduler.web import api_docs, error_pages
    from scheduler.web.security_headers import SecurityHeaders
    from scheduler.worklist import api as worklist_api
    from scheduler.worklist import pages as worklist_pages

    bootstrap()
    settings = settings or get_settings()
    app = FastAPI(
        title="Dosing scheduler",
        description="The staff app's operations as JSON. Every call needs "
        "`Authorization: Bearer <token>` (`dosing user token NAME`) and the role the pages "
        "need for the same operation.",
        # Served by ``api_docs`` to logged-in staff only, under a Content-Security-Policy.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.state.clock = clock or SystemClock()
    app.state.engine = require_current(settings.database_url)

    error_pages.install(app)
    for api_router in (
        subjects_api.router,
        worklist_api.router,
        feeds_api.router,
        reminders_api.router,
        staff_api.router,
        signatures_api.router,
        labs_api.router,
        eligibility_api.router,
        appointments_api.router,
        patients_api.router,
    ):
        app.include_router(api_router)
    # Pages are for people: /docs documents the JSON API only, whatever a page router says.
    for page_router in (
        worklist_pages.router,
        overview_pages.router,
        pharmacy_pages.router,
        day1_pages.router,
        export_pages.router,
        # before the subject pages: /subjects/new is not a subject's code
        enrolment_pages.router,
        subject_pages.router,
        audit_pages.router,
        staff_pages.router,
        reminder_pages.router,
        signature_pages.router,
        lab_pages.router,
        eligibility_pages.router,
        appointment_pages.router,
        patient_pages.router,
    ):
        app.include_router(page_router, include_in_schema=False)
    auth.install(app)
    api_docs.install(app)
    app.include_router(feed_pages.router)
    feed_endpoint.install(app)
    app.add_middleware(SecurityHeaders)
    return app


def freeze_startup_heap(app: FastAPI | None = None) -> None:
    """Called once a serving process has built its app: the hundreds of thousands of objects
    that imports and startup made live as long as the process, and moving them out of the
    collector's reach keeps a full collection, triggered by one large request's allocations,
    from scanning them all (the 95th percentile of a 6,000-item worklist fell from 68-205 ms to
    under 33 ms, docs/worklist.md). Given the app, its routes are built first
    (``_build_routes``). Then the collector looks at young objects less often
    (``YOUNG_COLLECTION``)."""
    if app is not None:
        _build_routes(app)
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION, *gc.get_threshold()[1:])


YOUNG_COLLECTION = 5_000
"""Allocations between two collections of the youngest objects (Python's default is 700). A
page allocates thousands of objects that all die when it is answered: collected every 700, they
were found alive in the middle of the request and promoted, and the promotions brought a full
collection (15 to 20 ms) once in eight requests of the worklist of every site. At 5,000 it
came once in 75, and the collector's time per request fell from 3.6 to 1.5 ms
(docs/speed.md)."""


_NO_ROUTE = "/.startup-no-such-page"


def _build_routes(app: FastAPI) -> None:
    """FastAPI builds each included router's routes (their dependants and validators, some
    25,000 objects) when a request first reaches them, so after the heap was frozen: every
    full collection then scanned them, 20 to 30 ms once in eight requests of the worklist of
    every site (docs/speed.md). A request for no page reaches them all. It is answered 404
    without a session or the database, on a loop of its own (a ``--workers`` process builds
    its app inside uvicorn's running loop)."""

    async def ask() -> int:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://startup") as client:
            return (await client.get(_NO_ROUTE)).status_code

    answered: list[int] = []
    thread = threading.Thread(target=lambda: answered.append(asyncio.run(ask())))
    thread.start()
    thread.join()
    if answered != [404]:
        raise RuntimeError(f"the start-up request for no page was answered {answered}")
