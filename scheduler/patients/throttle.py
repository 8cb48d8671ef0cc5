"""The per-token throttle of the patient page and the one-tap links, in the manner of the login
throttle (``scheduler.staff.throttle``): each request is stored with its time under the hash of
its token (``PatientRequest``), and one past ``patient_requests_per_window`` within the window
is refused with 429 and Retry-After before anything else is done. Stored rather than counted in
memory so that every server process counts the same requests; rows older than the window are
deleted as new ones come.

A patient opens the page a few times a day; a leaked or shared link used by a script is slowed
to the window's rate."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, func, select

from scheduler.models import PatientRequest
from scheduler.settings import Settings


def request_wait(session: Session, key: str, now: datetime, settings: Settings) -> int:
    """Counts this request under ``key`` (a token's hash); returns 0 to go ahead, or the
    seconds until a request would be allowed again (the request is then not counted)."""
    window = timedelta(seconds=settings.patient_request_window_seconds)
    since = now - window
    session.exec(delete(PatientRequest).where(col(PatientRequest.at) <= since))
    at = col(PatientRequest.at)
    count, first = session.exec(
        select(func.count(), func.min(at)).where(PatientRequest.key == key, at > since)
    ).one()
    if count >= settings.patient_requests_per_window:
        return max(1, int((first + window - now).total_seconds() + 0.999))
    session.add(PatientRequest(key=key, at=now))
    return 0
