"""Dosing-cycle and visit scheduler for oral anticancer therapy in clinical trials."""

__version__ = "0.1.0"
