"""A subject's calendar feed link through the JSON API, as on the subject's feed page: whether a
link is live, issue one, withdraw it. The link is in the answer of the call that issues it and
nowhere else (only its hash is stored), so issuing over a live link must say ``rotate``: a
program cannot see the page's warning that the patient's current subscription stops working.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from scheduler.errors import Conflict
from scheduler.feeds.tokens import PATIENT, issue_feed, revoke_feed, token_status
from scheduler.web.api_types import ERRORS, ApiModel, Reason
from scheduler.web.deps import NurseStaff, SubjectCode, UnitDep, WriteRoute
from scheduler.web.public_url import feed_settings

router = APIRouter(prefix="/api", route_class=WriteRoute, responses=ERRORS, tags=["feeds"])


class FeedStatusOut(BaseModel):
    live: bool
    issued_at: datetime | None
    issued_by: str | None
    revoked: int = Field(description="How many earlier links were withdrawn or rotated")


class FeedIssueIn(ApiModel):
    reason: Reason = ""
    rotate: bool = Field(
        default=False,
        description="Needed when a link is live: the new link replaces it, the old one stops "
        "working (clients get 410)",
    )


class FeedIssuedOut(BaseModel):
    https: str
    webcal: str = Field(description="The form calendar apps subscribe to")
    rotated: bool


class FeedRevokeIn(ApiModel):
    reason: Reason = ""


class FeedRevokedOut(BaseModel):
    revoked: int = Field(description="Links withdrawn (0 when none was live)")


@router.get("/subjects/{code}/feed")
def feed_status(code: SubjectCode, unit: UnitDep) -> FeedStatusOut:
    """Whether the subject's patient feed link is live, since when and who issued it. Never the
    link itself."""
    return FeedStatusOut.model_validate(token_status(unit.session, PATIENT, code))


@router.post("/subjects/{code}/feed", status_code=201)
def issue_feed_link(
    code: SubjectCode,
    body: FeedIssueIn,
    request: Request,
    response: Response,
    _staff: NurseStaff,
    unit: UnitDep,
) -> FeedIssuedOut:
    """Issue the subject's patient feed link; the answer is the only time it is shown."""
    live = bool(token_status(unit.session, PATIENT, code)["live"])
    if live and not body.rotate:
        raise Conflict(
            "rotate",
            f"{code} already has a live feed link, which cannot be shown again; send "
            '"rotate": true to issue a new one (the current one stops working)',
        )
    issued = issue_feed(unit, feed_settings(request), PATIENT, code, reason=body.reason)
    response.headers["Cache-Control"] = "no-store"
    return FeedIssuedOut(https=issued.https, webcal=issued.webcal, rotated=live)


@router.post("/subjects/{code}/feed/revoke")
def revoke_feed_link(
    code: SubjectCode, body: FeedRevokeIn, _staff: NurseStaff, unit: UnitDep
) -> FeedRevokedOut:
    """Withdraw the subject's feed link: calendar clients get 410 and stop polling."""
    return FeedRevokedOut(revoked=revoke_feed(unit, PATIENT, code, reason=body.reason))
