"""Labs and vital signs: results recorded with their unit and normal range, graded by CTCAE
v5.0 against the subject's baseline, and what the protocol does with them (adverse-event
proposals, day-1 criteria, eligibility, the SDTM LB export)."""
