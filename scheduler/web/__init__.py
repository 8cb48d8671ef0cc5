"""The web shell: FastAPI app, HTML pages for staff, JSON API and calendar feeds."""
