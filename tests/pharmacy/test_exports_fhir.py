"""The FHIR R4 export validates against the fhir.resources R4B models and says what the plan
says: days 1-14 of each 21-day cycle, once daily, and one Appointment per visit."""

from fhir.resources.R4B.bundle import Bundle

from scheduler.kernel.subject_state import plan_for
from scheduler.pharmacy.fhir_export import plan_bundle
from scheduler.subjects.enrolment import enroll


def test_the_bundle_validates_and_expresses_the_cycle_timing(units):
    with units() as unit:
        enroll(unit, "S-001", c1d1="2026-02-02", surgery="2026-01-05", site_code="ZJU1")
    with units() as unit:
        plan = plan_for(unit.session, "S-001", unit.now)
    bundle = Bundle.model_validate(plan_bundle(plan))
    kinds = [entry.resource.get_resource_type() for entry in bundle.entry]
    assert kinds[:3] == ["Patient", "CarePlan", "MedicationRequest"]
    assert kinds.count("Appointment") == len(plan.visits)
    request = bundle.entry[2].resource
    first = request.dosageInstruction[0]
    repeat = first.timing.repeat
    assert (repeat.frequency, repeat.period, repeat.periodUnit) == (1, 1, "d")
    assert (str(repeat.boundsPeriod.start), str(repeat.boundsPeriod.end)) == (
        "2026-02-02",
        "2026-02-15",
    )
    assert "days 1-14 of a 21-day cycle" in first.text
    assert len(request.dosageInstruction) == 8
    care_plan = bundle.entry[1].resource
    assert len(care_plan.activity) == 1 + len(plan.visits)
