"""The students table (tutorial section 2.4)."""
