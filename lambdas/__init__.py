"""Code of the three Lambda functions; each deployment zip holds this package at its root."""
