"""Appointments: each site's clinic, visits booked for a date and a time inside their window,
rebooking when the plan moves, and the day's list per clinic (docs/appointments.md)."""
