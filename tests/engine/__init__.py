"""Tests of the CDK engine and its provider bindings."""
