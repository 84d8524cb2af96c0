"""Tests of the constructs, through the synthesized JSON."""
