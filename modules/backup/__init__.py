"""Backups (tutorial sections 6.5 and 8): the bucket, the daily schedule, the run records."""
