"""What `make` runs to build and review: synth, plan and its summary and guard, the checkov gate, set-up."""
