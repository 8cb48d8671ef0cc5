"""Screening: the protocol's eligibility checklist answered per subject (lab criteria filled
from the recorded results), investigators' waivers, screen failures and the screening log."""
