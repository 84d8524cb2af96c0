"""Tests of the whole system deployed into the emulator, used as a user would."""
