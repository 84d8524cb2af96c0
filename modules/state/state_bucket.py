"""Terraform remote state: the bucket the application stack keeps its state in.

Not a tutorial section: the tutorial has no state, because it clicks. This is
the bootstrap stack's only resource group. The bootstrap stack keeps its own
state locally (a bucket cannot hold the state that creates it).
"""

from __future__ import annotations

from constructs import Construct

from modules.shared.lifecycle import expire_noncurrent_versions
from modules.shared.secure_bucket import SecureBucket


class StateBucket(Construct):
    """Versioned, encrypted, private, TLS-only bucket for Terraform state.

    State locking needs no DynamoDB table: the S3 backend writes a ``.tflock``
    object with a conditional put (``use_lockfile``, Terraform >= 1.10).
    Attributes: ``bucket`` (the ``SecureBucket``).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        bucket_name: str,
        noncurrent_version_retention_days: int,
    ) -> None:
        super().__init__(scope, id_)
        self.bucket = SecureBucket(
            self,
            "state",
            bucket_name=bucket_name,
            # Versioned, as every SecureBucket: old state versions are how a bad
            # apply is rolled back; this rule bounds how long they are kept.
            lifecycle_rules=[expire_noncurrent_versions(noncurrent_version_retention_days)],
            prevent_destroy=True,
        )
