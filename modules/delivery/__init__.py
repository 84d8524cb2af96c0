"""Delivery from GitHub Actions: the account's OIDC trust in GitHub, the planning role and the apply role."""
