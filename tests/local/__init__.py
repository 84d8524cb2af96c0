"""Tests of the emulator, the edge and the deploy into them."""
