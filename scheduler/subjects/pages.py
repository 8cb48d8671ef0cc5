"""A subject's page: header, timeline, visits and cycles, and the forms that record what
happened. Every form posts to a route that calls the same service function as the CLI in one
unit of work; a refused value re-renders the page with the reason next to the field, and
nothing is stored. Holds and resumptions are previewed (what the plan would become) before the
confirm button stores them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlmodel import select

from scheduler import core
from scheduler.core.inputs import DISCONTINUATION_REASONS
from scheduler.core.outputs import TAKEN
from scheduler.core.wording import N_
from scheduler.errors import InputError, NotFound
from scheduler.i18n import Wording
from scheduler.kernel.actors import INVESTIGATOR_ACTIONS, NURSE_ACTIONS
from scheduler.kernel.subject_state import SubjectState, subject_state
from scheduler.kernel.unit import Unit
from scheduler.kernel.validation import parse_date
from scheduler.models import Void
from scheduler.patients.links import link_status
from scheduler.patients.view import panel
from scheduler.protocols.schema import DoseLevel
from scheduler.reminders.channels.registry import DESCRIPTORS
from scheduler.reminders.history import reminder_history
from scheduler.reminders.outbox import preference_summary, set_preference
from scheduler.signatures.records import resume_dose_deviation
from scheduler.signatures.services import awaiting_signature, signatures_of
from scheduler.staff.accounts import Staff
from scheduler.subjects.adverse_events import RecordedEvent, record_adverse_event
from scheduler.subjects.corrections import void_record
from scheduler.subjects.doses import record_dose
from scheduler.subjects.previews import (
    Preview,
    preview_discontinue,
    preview_hold,
    preview_resume,
    preview_void,
)
from scheduler.subjects.records import RecordLine, records_of
from scheduler.subjects.treatment import discontinue, hold, resume
from scheduler.subjects.visits import record_visit
from scheduler.web.confirmation import confirmation_page, require_confirmation
from scheduler.web.deps import (
    CurrentStaff,
    InvestigatorStaff,
    NurseStaff,
    SubjectCode,
    request_unit,
)
from scheduler.web.error_pages import problem_page
from scheduler.web.form_errors import page_reason
from scheduler.web.forms import optional_milligrams, optional_whole, whole
from scheduler.web.labels import WORDS
from scheduler.web.page_language import request_wording
from scheduler.web.rendering import TEMPLATES
from scheduler.web.timeline_svg import timeline_svg

router = APIRouter(include_in_schema=False)
T = TypeVar("T")
Text = Annotated[str, Form()]

FORM_FIELDS: dict[str, tuple[str, ...]] = {
    "visit": ("code", "on", "reason"),
    "dose": ("date", "outcome", "at", "slot", "reason"),
    "ae": ("term", "grade", "onset", "related", "intolerable"),
    "hold": ("from", "reason", "ae"),
    "resume": ("on", "dose_mg", "reason"),
    "discontinue": ("on", "reason", "note"),
    "reminders": ("channel", "address"),
}
NOTICES = {
    "enrol": N_("Subject enrolled: the plan below is built from the dates given."),
    "day1-met": N_("Day-1 criteria met: recorded."),
    "day1-not_met": N_("Day-1 criteria not met: recorded; the cycle waits until they are met."),
    "visit": N_("Visit recorded."),
    "dose": N_("Dose recorded."),
    "hold": N_("Hold started: every dose from its first day is held until a resumption."),
    "resume": N_("Resumption recorded."),
    "discontinue": N_("Discontinuation recorded."),
    "signed": N_("Signed."),
    "void": N_("Record voided."),
    "reminders-on": N_("Reminders on: the subject's reminders are queued from the plan."),
    "reminders-off": N_("Reminders off: the pending reminders were cancelled."),
}


@dataclass(frozen=True)
class FormError:
    """A refused value: shown next to its field when the form has that field, else at the top
    of the form with the field named."""

    form: str
    field: str
    reason: str
    on_a_field: bool = False


def _form_error(form: str, exc: InputError, fields: dict[str, tuple[str, ...]]) -> FormError:
    reason = page_reason(exc.reason)
    return FormError(form, exc.field, reason, on_a_field=exc.field in fields.get(form, ()))


def shown_fields(slots_per_day: int) -> dict[str, tuple[str, ...]]:
    """The fields each form shows: the dose form has an administration field only when the
    protocol doses more than once a day."""
    if slots_per_day > 1:
        return FORM_FIELDS
    return {**FORM_FIELDS, "dose": tuple(f for f in FORM_FIELDS["dose"] if f != "slot")}


def ctcae_terms(state: SubjectState) -> list[str]:
    """Terms the protocol lists for the drug, its toxicity table and its lab list name; any
    other term may be typed."""
    protocol = state.protocol
    named = {t for rule in protocol.toxicity_rules for t in rule.terms if t != "*"}
    return sorted(named | set(protocol.ae_terms) | set(protocol.lab_terms))


def level_caption(words: Wording, level: DoseLevel) -> str:
    """``dose level -1`` (剂量水平 -1), and the protocol's label after it when the label adds
    something: protocols often label a reduced level by its number, which would then be printed
    twice."""
    caption = words.gettext("dose level {level}").format(level=level.level)
    if level.label and level.label.strip().lower() != f"dose level {level.level}":
        caption += f", {level.label}"
    return caption


def visit_names(plan: core.Plan, language: str) -> dict[str, str]:
    """The name of each planned visit in the reader's language where the protocol translates
    it (NCT03945799 version 4 does into Chinese), else the protocol's own."""
    names = {}
    for visit in plan.visits:
        text = plan.protocol.visit_text(visit.code, language)
        names[visit.code] = text.name if text is not None and text.name else visit.name
    return names


RECORDED_DOSE = (*TAKEN, "missed")
"""Dose statuses that come from a record: a hold may not cover any of them."""


@dataclass(frozen=True)
class HoldBlocked:
    """Why a hold cannot start on an adverse event's onset: a dose was recorded on or after
    it. The nurse is offered the first day a hold can start instead."""

    last_recorded: date
    first_possible: date


def hold_blocked(plan: core.Plan, onset: date) -> HoldBlocked | None:
    recorded = [
        slot.date
        for cycle in plan.cycles
        for slot in cycle.doses
        if slot.status in RECORDED_DOSE and slot.date >= onset
    ]
    if not recorded:
        return None
    last = max(recorded)
    return HoldBlocked(last, last + timedelta(days=1))


def _cycle_day(plan: core.Plan) -> tuple[int, int] | None:
    for cycle in plan.cycles:
        if cycle.day1 <= plan.today <= cycle.end:
            return cycle.number, (plan.today - cycle.day1).days + 1
    return None


def _render(
    request: Request,
    staff: Staff,
    code: SubjectCode,
    *,
    form: str = "",
    refused: InputError | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    """The subject page; with ``refused``, the page again with the reason next to the field of
    ``form`` and the values as typed (nothing was stored)."""
    try:
        with request_unit(request, staff.name) as unit:
            state = subject_state(unit.session, code, unit.now)
            reminders = preference_summary(unit.session, code, viewer_role=staff.role)
            signed = signatures_of(unit.session, code)
            records = records_of(unit.session, code)
            unsigned = awaiting_signature(unit.session, code)
            sent = reminder_history(unit.session, code)
            reports = panel(unit.session, state, link_status(unit.session, code))
    except NotFound as exc:
        if exc.field != "subject":
            raise
        return problem_page(request, N_("No such subject"), exc.reason, exc.http_status)
    plan = state.plan()
    slots_per_day = state.protocol.schedule.administrations_per_day
    error = None if refused is None else _form_error(form, refused, shown_fields(slots_per_day))
    status = 200 if refused is None else refused.http_status
    level = state.protocol.level_for(plan.dose_mg)
    words = request_wording(request)
    shown_ae = request.query_params.get("ae", "") if error is None else ""
    assessed = next((a for a in plan.adverse_events if str(a.event.id) == shown_ae), None)
    open_visits = [v for v in plan.visits if v.status not in ("done", "cancelled")]
    context: dict[str, Any] = {
        "staff": staff,
        "state": state,
        "plan": plan,
        "site": state.site,
        "level": level_caption(words, level) if level else "",
        "visit_names": visit_names(plan, words.language),
        "cycle_day": _cycle_day(plan),
        "timeline": Markup(timeline_svg(plan, plan.today, words)),
        "open_visits": open_visits,
        "due_visit": next((v for v in open_visits if v.status in ("due", "overdue")), None),
        "terms": ctcae_terms(state),
        "lower_levels": [lvl for lvl in state.protocol.dose_levels if lvl.dose_mg < plan.dose_mg],
        "reasons": DISCONTINUATION_REASONS,
        "reminders": reminders,
        "reminder_history": sent,
        "channels": {name: d.label for name, d in DESCRIPTORS.items()},
        "slots": range(1, slots_per_day + 1),
        "can_record": staff.role in NURSE_ACTIONS,
        "can_decide": staff.role in INVESTIGATOR_ACTIONS,
        "error": error,
        "values": values or {},
        "notice": NOTICES.get(request.query_params.get("done", "")),
        "assessed": assessed,
        "signatures": signed,
        "records": records,
        "awaiting_signature": unsigned,
        "hold_blocked": hold_blocked(plan, assessed.event.onset) if assessed else None,
        "patient": reports,
    }
    return TEMPLATES.TemplateResponse(request, "subject.html", context, status_code=status)


def _attempt(request: Request, staff: Staff, change: Callable[[Unit], T]) -> T:
    """Run one change as one unit of work: all of it is stored, or (on any error) none."""
    with request_unit(request, staff.name) as unit:
        return change(unit)


def _submit(
    request: Request,
    staff: Staff,
    code: SubjectCode,
    form: str,
    values: dict[str, str],
    change: Callable[[Unit], Any],
    done: str,
    signed_kind: str | None = None,
) -> Response:
    """Run ``change``; a decision an investigator signs (``signed_kind``) recorded by an
    investigator goes on to its signing page: record and sign in one flow."""
    recorded: list[int] = []

    def run(unit: Unit) -> None:
        change(unit)
        recorded.extend(
            e.entity_id for e in unit.audit_entries if e.entity == signed_kind and e.entity_id
        )

    try:
        _attempt(request, staff, run)
    except InputError as exc:
        return _render(request, staff, code, form=form, refused=exc, values=values)
    if recorded and staff.role in INVESTIGATOR_ACTIONS:
        return RedirectResponse(f"/signatures/{signed_kind}-{recorded[-1]}", status_code=303)
    return RedirectResponse(f"/subjects/{code}?{done}", status_code=303)


@router.get("/subjects/{code}", response_class=HTMLResponse)
def subject_page(request: Request, code: SubjectCode, staff: CurrentStaff) -> Response:
    return _render(request, staff, code)


@router.post("/subjects/{code}/visits")
def record_visit_form(
    request: Request,
    code: SubjectCode,
    staff: NurseStaff,
    visit_code: Annotated[str, Form(alias="code")] = "",
    on: Text = "",
    reason: Text = "",
) -> Response:
    values = {"code": visit_code, "on": on, "reason": reason}
    return _submit(
        request,
        staff,
        code,
        "visit",
        values,
        lambda unit: record_visit(unit, code, visit_code, on=parse_date("on", on), reason=reason),
        "done=visit",
    )


@router.post("/subjects/{code}/doses")
def record_dose_form(
    request: Request,
    code: SubjectCode,
    staff: NurseStaff,
    on: Annotated[str, Form(alias="date")] = "",
    outcome: Text = "",
    at: Text = "",
    slot: Text = "1",
    reason: Text = "",
) -> Response:
    values = {"date": on, "outcome": outcome, "at": at, "slot": slot, "reason": reason}

    def change(unit: Unit) -> object:
        if outcome not in ("taken", "missed"):
            raise InputError("outcome", "choose taken or missed")
        return record_dose(
            unit,
            code,
            on=parse_date("date", on),
            taken=outcome == "taken",
            at=at or None,
            slot=whole("slot", slot),
            reason=reason,
        )

    return _submit(request, staff, code, "dose", values, change, "done=dose")


@router.post("/subjects/{code}/adverse-events")
def record_adverse_event_form(
    request: Request,
    code: SubjectCode,
    staff: NurseStaff,
    term: Text = "",
    grade: Text = "",
    onset: Text = "",
    related: Text = "",
    intolerable: Text = "",
    reason: Text = "",
) -> Response:
    """Causality is asked, never assumed: ``related`` must be answered yes or no."""
    values = {
        "term": term,
        "grade": grade,
        "onset": onset,
        "related": related,
        "intolerable": intolerable,
        "reason": reason,
    }

    def change(unit: Unit) -> RecordedEvent:
        graded, day = whole("grade", grade), parse_date("onset", onset)
        if related not in ("yes", "no"):
            raise InputError("related", "say whether the event is related to the study drug")
        return record_adverse_event(
            unit,
            code,
            term=term,
            grade=graded,
            onset=day,
            related=related == "yes",
            intolerable=bool(intolerable),
            reason=reason,
        )

    try:
        recorded = _attempt(request, staff, change)
    except InputError as exc:
        return _render(request, staff, code, form="ae", refused=exc, values=values)
    return RedirectResponse(f"/subjects/{code}?ae={recorded.record.id}", status_code=303)


def _preview_page(
    request: Request,
    staff: Staff,
    code: SubjectCode,
    form: str,
    values: dict[str, str],
    make: Callable[[], Preview],
    notes: Callable[[], list[str]] = list,
) -> Response:
    """The preview page; ``notes`` are sentences on how the decision departs from the
    protocol's proposal."""
    try:
        preview = make()
        said = notes()
    except InputError as exc:
        return _render(request, staff, code, form=form, refused=exc, values=values)
    context = {
        "code": code,
        "form": form,
        "values": values,
        "preview": preview,
        "diff": preview.diff,
        "notes": said,
    }
    return TEMPLATES.TemplateResponse(request, "preview.html", context)


@router.get("/subjects/{code}/hold-preview", response_class=HTMLResponse)
def hold_preview(
    request: Request,
    code: SubjectCode,
    staff: NurseStaff,
    start: Annotated[str, Query(alias="from")] = "",
    reason: str = "",
    ae: str = "",
) -> Response:
    values = {"from": start, "reason": reason, "ae": ae}
    return _preview_page(
        request,
        staff,
        code,
        "hold",
        values,
        lambda: preview_hold(
            request.app.state.engine,
            staff.name,
            request.app.state.clock.now(),
            code,
            start=parse_date("from", start),
            reason=reason,
            adverse_event_id=optional_whole("ae", ae, digits=9),
        ),
    )


@router.post("/subjects/{code}/holds")
def start_hold_form(
    request: Request,
    code: SubjectCode,
    staff: NurseStaff,
    start: Annotated[str, Form(alias="from")] = "",
    reason: Text = "",
    ae: Text = "",
) -> Response:
    values = {"from": start, "reason": reason, "ae": ae}
    return _submit(
        request,
        staff,
        code,
        "hold",
        values,
        lambda unit: hold(
            unit,
            code,
            start=parse_date("from", start),
            reason=reason,
            adverse_event_id=optional_whole("ae", ae, digits=9),
        ),
        "done=hold",
        signed_kind="hold",
    )


@router.get("/subjects/{code}/resume-preview", response_class=HTMLResponse)
def resume_preview(
    request: Request,
    code: SubjectCode,
    staff: InvestigatorStaff,
    on: str = "",
    dose_mg: str = "",
    reason: str = "",
) -> Response:
    values = {"on": on, "dose_mg": dose_mg, "reason": reason}

    def notes() -> list[str]:
        with request_unit(request, staff.name) as unit:
            subject = subject_state(unit.session, code, unit.now).subject
            said = resume_dose_deviation(
                unit.session,
                subject.id or 0,
                parse_date("on", on),
                optional_milligrams("dose_mg", dose_mg),
                unit.now,
            )
        return [said] if said else []

    return _preview_page(
        request,
        staff,
        code,
        "resume",
        values,
        lambda: preview_resume(
            request.app.state.engine,
            staff.name,
            request.app.state.clock.now(),
            code,
            on=parse_date("on", on),
            dose_mg=optional_milligrams("dose_mg", dose_mg),
            reason=reason,
        ),
        notes,
    )


@router.post("/subjects/{code}/resumptions")
def resume_form(
    request: Request,
    code: SubjectCode,
    staff: InvestigatorStaff,
    on: Text = "",
    dose_mg: Text = "",
    reason: Text = "",
    confirm: Text = "",
) -> Response:
    """Stores the resumption confirmed on its preview; one that continues past a protocol
    limit (an override) needs the confirmation ticked there too."""
    values = {"on": on, "dose_mg": dose_mg, "reason": reason}
    state = request.app.state
    try:
        tried = preview_resume(
            state.engine,
            staff.name,
            state.clock.now(),
            code,
            on=parse_date("on", on),
            dose_mg=optional_milligrams("dose_mg", dose_mg),
            reason=reason,
        )
        override = bool(tried.limits_passed)
    except InputError:
        override = False  # the unit of work below refuses it with the same error

    def change(unit: Unit) -> object:
        day, dose = parse_date("on", on), optional_milligrams("dose_mg", dose_mg)
        if override and confirm != "yes":
            raise InputError("confirm", "review the preview and confirm continuing past the limit")
        return resume(unit, code, on=day, dose_mg=dose, reason=reason)

    return _submit(
        request, staff, code, "resume", values, change, "done=resume", signed_kind="resumption"
    )


@router.get("/subjects/{code}/discontinue-preview", response_class=HTMLResponse)
def discontinue_preview(
    request: Request,
    code: SubjectCode,
    staff: InvestigatorStaff,
    on: str = "",
    reason: str = "",
    note: str = "",
) -> Response:
    """What a discontinuation would cancel, before anyone confirms it (no reason is assumed)."""
    values = {"on": on, "reason": reason, "note": note}
    return _preview_page(
        request,
        staff,
        code,
        "discontinue",
        values,
        lambda: preview_discontinue(
            request.app.state.engine,
            staff.name,
            request.app.state.clock.now(),
            code,
            on=parse_date("on", on),
            reason=reason,
        ),
    )


@router.post("/subjects/{code}/discontinuation")
def discontinue_form(
    request: Request,
    code: SubjectCode,
    staff: InvestigatorStaff,
    on: Text = "",
    reason: Text = "",
    note: Text = "",
    confirm: Text = "",
) -> Response:
    """Stores the discontinuation confirmed on its preview page: never in one click."""
    values = {"on": on, "reason": reason, "note": note}

    def change(unit: Unit) -> object:
        day = parse_date("on", on)
        if confirm != "yes":
            raise InputError("confirm", "review the preview and confirm the discontinuation")
        return discontinue(unit, code, on=day, reason=reason, note=note)

    return _submit(
        request,
        staff,
        code,
        "discontinue",
        values,
        change,
        "done=discontinue",
        signed_kind="discontinuation",
    )


@router.post("/subjects/{code}/reminders")
def reminder_preference_form(
    request: Request,
    code: SubjectCode,
    staff: NurseStaff,
    opted_in: Text = "",
    channel: Text = "",
    address: Text = "",
) -> Response:
    values = {"opted_in": opted_in, "channel": channel, "address": address}

    def change(unit: Unit) -> object:
        if opted_in not in ("yes", "no"):
            raise InputError("opted_in", "choose opt in or opt out")
        if opted_in == "no":
            return set_preference(unit, code, opted_in=False)
        return set_preference(unit, code, opted_in=True, channel=channel, address=address)

    done = "done=reminders-on" if opted_in == "yes" else "done=reminders-off"
    return _submit(request, staff, code, "reminders", values, change, done)


def _void_changes(words: Wording, line: RecordLine, preview: Preview) -> list[str]:
    diff = preview.diff
    _ = words.gettext
    changes = [
        _(
            "{kind} {id} of {on} ({summary}) is struck out: the record stays, marked void with "
            "your reason."
        ).format(kind=line.kind, id=line.id, on=line.on, summary=line.summary),
        _("Status now {before}, then {after}.").format(
            before=_(WORDS.get(diff.status_before, diff.status_before)),
            after=_(WORDS.get(diff.status_after, diff.status_after)),
        ),
    ]
    if diff.lost_count:
        changes.append(
            words.ngettext(
                "{count} planned dose is no longer planned.",
                "{count} planned doses are no longer planned.",
                diff.lost_count,
            ).format(count=diff.lost_count)
        )
    if diff.restored_count:
        changes.append(
            words.ngettext(
                "{count} dose is planned again.",
                "{count} doses are planned again.",
                diff.restored_count,
            ).format(count=diff.restored_count)
        )
    if line.kind in ("hold", "resumption", "discontinuation"):
        changes.append(_("Voiding an investigator's decision needs an investigator's signature."))
    return changes


def _void_page(
    request: Request,
    staff: Staff,
    code: SubjectCode,
    kind: str,
    record: str,
    reason: str,
    error: InputError | None = None,
) -> Response:
    try:
        with request_unit(request, staff.name) as unit:
            lines = records_of(unit.session, code)  # another site's subject: 404 first
        record_id = whole("id", record)
        line = next((r for r in lines if (r.kind, r.id) == (kind, record_id)), None)
        if line is None:
            raise NotFound("id", f"no {kind} record {record_id} for {code}")
        preview = preview_void(
            request.app.state.engine,
            staff.name,
            request.app.state.clock.now(),
            code,
            kind=kind,
            record_id=record_id,
        )
    except InputError as exc:
        return problem_page(request, N_("Cannot void this record"), str(exc), exc.http_status)
    words = request_wording(request)
    _ = words.gettext
    return confirmation_page(
        request,
        title=_("{code}: void or correct {kind} {id}").format(code=code, kind=kind, id=record_id),
        changes=_void_changes(words, line, preview),
        action=f"/subjects/{code}/records/{kind}/{record_id}/void",
        hidden={},
        confirm_label=_("I confirm that {kind} {id} is struck out").format(kind=kind, id=record_id),
        button=_("Void {kind} {id}").format(kind=kind, id=record_id),
        cancel=f"/subjects/{code}",
        reason=reason,
        error=error,
    )


@router.get("/subjects/{code}/records/{kind}/{record_id}/void", response_class=HTMLResponse)
def void_preview(
    request: Request, code: SubjectCode, kind: str, record_id: str, staff: NurseStaff
) -> Response:
    """What voiding the record would do to the plan, with a reason and a confirmation to give;
    a correction is then recorded as a new record."""
    return _void_page(request, staff, code, kind, record_id, "")


@router.post("/subjects/{code}/records/{kind}/{record_id}/void")
def void_form(
    request: Request,
    code: SubjectCode,
    kind: str,
    record_id: str,
    staff: NurseStaff,
    reason: Text = "",
    confirm: Text = "",
) -> Response:
    """Voids the record confirmed on its preview page. An investigator voiding a signed
    decision goes on to sign the void."""
    with request_unit(request, staff.name) as unit:
        subject_state(unit.session, code, unit.now)  # another site's subject: 404 first
    try:
        number = whole("id", record_id)
        with request_unit(request, staff.name) as unit:
            void_record(unit, code, kind, number, require_confirmation(reason, confirm))
            void_id = unit.session.exec(
                select(Void.id).where(Void.record_kind == kind, Void.record_id == number)
            ).one()
            awaiting = {r.label for r in awaiting_signature(unit.session, code)}
    except InputError as exc:
        return _void_page(request, staff, code, kind, record_id, reason, exc)
    if f"void-{void_id}" in awaiting and staff.role in INVESTIGATOR_ACTIONS:
        return RedirectResponse(f"/signatures/void-{void_id}", status_code=303)
    return RedirectResponse(f"/subjects/{code}?done=void", status_code=303)
