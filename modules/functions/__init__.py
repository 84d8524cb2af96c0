"""The Lambda functions (tutorial sections 2.1-3.3 and 10): their table (``catalog.py``), packaging, roles
and dead-letter queue."""
