"""Joins the four migrations written side by side on top of 1602eligibility: the kept pharmacy
rows, appointments, patient reports and the staff account's language. None reads another's
tables, so their order does not matter; this revision only gives the chain one head again.

Revision ID: 1801mergeheads
Revises: 1201pharmacyrows, 1702appointments, 1703patientreports, 1704stafflanguage
Create Date: 2026-12-07 04:00:00
"""

from collections.abc import Sequence

revision: str = "1801mergeheads"
down_revision: str | Sequence[str] | None = (
    "1201pharmacyrows",
    "1702appointments",
    "1703patientreports",
    "1704stafflanguage",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
