"""Tests of what make runs to build and review: plan summary, gates, validation."""
