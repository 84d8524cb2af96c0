"""The two Terraform stacks (``state-bootstrap``, ``student-management``), each composed from the constructs of
``modules/``, and the Terraform settings they share (provider, version constraints, state backends)."""
