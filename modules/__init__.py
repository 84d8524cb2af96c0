"""CDKTF constructs of the student management system, one per tutorial concern."""
