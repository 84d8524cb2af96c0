"""CDKTF constructs of the student management system, grouped by the concern each serves."""
