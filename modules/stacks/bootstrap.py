"""The ``state-bootstrap`` stack: the S3 bucket that holds the system's Terraform state.

Its own stack because the system's state lives in what it creates: it is
applied first (``make bootstrap``), with its own state in a local file
(docs/DEPLOYING.md).
"""

from __future__ import annotations

from constructs import Construct

from config.settings import AppConfig
from engine.cdk import TerraformOutput, TerraformStack
from lambdas.common import names
from modules.stacks.terraform import configure_terraform, local_state
from modules.state.state_bucket import StateBucket


class BootstrapStack(TerraformStack):
    """The state bucket; its own state is a local file (see docs/DEPLOYING.md: "The state"). Attribute: ``state``."""

    def __init__(self, scope: Construct, id_: str, *, config: AppConfig) -> None:
        super().__init__(scope, id_)
        configure_terraform(self, config, account_level=True)
        local_state(self, config)
        self.state = StateBucket(
            self,
            "state",
            bucket_name=config.state_bucket,
            noncurrent_version_retention_days=config.noncurrent_version_retention_days,
        )
        TerraformOutput(self, names.OUTPUT_STATE_BUCKET, value=self.state.bucket.bucket.bucket)
