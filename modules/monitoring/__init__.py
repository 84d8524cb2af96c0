"""Alarms, their notification topic and the dashboard (``alarms.py``), from the table in ``spec.py``."""
