"""Operator commands, each run as ``python -m ops.<name>`` (the Makefile's targets call them)."""
