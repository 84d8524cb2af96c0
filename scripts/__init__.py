"""Scripts the Makefile runs; not a library."""
