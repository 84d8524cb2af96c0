"""The REST API (tutorial sections 4.1-4.9): methods from the function table, key, usage plan, staff sign-in."""
