"""What each stack tells Terraform: the AWS provider, the version constraints and where the state lives.

Separate from the stacks' constructs because these are the only places the
deploy target changes where requests go (the emulator's endpoints and CA,
path-style S3) and where state is kept; constructs never create providers or
backends. Both stacks configure the provider with ``configure_terraform``.
"""

from __future__ import annotations

from config.settings import AWS_PROVIDER_CONSTRAINT, PROJECT_ROOT, TERRAFORM_VERSION_CONSTRAINT, AppConfig
from engine.aws.provider import AwsProvider, AwsProviderDefaultTags, AwsProviderEndpoints
from engine.cdk import LocalBackend, S3Backend, S3BackendEndpointConfig, TerraformStack

#: Services the system calls, routed to the emulator when deploying locally.
EMULATED_SERVICES = (
    "apigateway",
    "cloudfront",
    "cloudwatch",
    "cloudwatchlogs",
    "dynamodb",
    "iam",
    "kms",
    "lambda",
    "s3",
    "scheduler",
    "cognitoidp",
    "secretsmanager",
    "ses",
    "sns",
    "sqs",
    "sts",
)


def configure_terraform(stack: TerraformStack, config: AppConfig, *, account_level: bool = False) -> AwsProvider:
    """The AWS provider of a stack, with default tags and, locally, the emulator's endpoints.

    An account-level stack (the state bucket, the delivery identity), which every
    environment of the account shares, carries the account's tags, not the environment's.
    """
    endpoints = None
    if config.is_local:
        url = config.emulator_endpoint
        endpoints = [AwsProviderEndpoints(**{_python_arg(s): url for s in EMULATED_SERVICES})]
    provider = AwsProvider(
        stack,
        "aws",
        region=config.region,
        default_tags=[AwsProviderDefaultTags(tags=dict(config.account_tags if account_level else config.tags))],
        endpoints=endpoints,
        # moto serves every bucket from one host; virtual-host addressing needs DNS it lacks.
        s3_use_path_style=True if config.is_local else None,
        custom_ca_bundle=str(config.emulator_ca_bundle) if config.is_local else None,
        skip_metadata_api_check="true" if config.is_local else None,
    )
    stack.add_override("terraform.required_providers.aws.version", AWS_PROVIDER_CONSTRAINT)
    stack.add_override("terraform.required_version", TERRAFORM_VERSION_CONSTRAINT)
    return provider


def _python_arg(service: str) -> str:
    return "lambda_" if service == "lambda" else service


def local_state(stack: TerraformStack, config: AppConfig) -> None:
    """The bootstrap stack's state: a local file, since the bucket that could hold it is what it creates."""
    if config.is_local:
        # The emulator keeps resources in memory only: this state lives and
        # dies with it (local/emulator.sh deletes it on a fresh start).
        LocalBackend(stack, path=str(config.emulator_state_dir / "bootstrap.tfstate"))
    else:
        LocalBackend(stack, path=str(PROJECT_ROOT / f"terraform.{stack.node.id}.tfstate"))


def remote_state(stack: TerraformStack, config: AppConfig) -> None:
    """State in the bootstrap bucket (the emulator's, locally), locked by S3 itself."""
    local = config.is_local
    S3Backend(
        stack,
        bucket=config.state_bucket,
        key=config.state_key,
        region=config.region,
        encrypt=True,
        endpoints=S3BackendEndpointConfig(s3=config.emulator_endpoint, sts=config.emulator_endpoint) if local else None,
        use_path_style=True if local else None,
        custom_ca_bundle=str(config.emulator_ca_bundle) if local else None,
        skip_metadata_api_check=True if local else None,
    )
    # cdktf 0.21's S3Backend predates S3-native locking (Terraform >= 1.10):
    # a conditional write of <key>.tflock, no DynamoDB lock table needed.
    stack.add_override("terraform.backend.s3.use_lockfile", True)
