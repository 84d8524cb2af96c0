"""The two targets: ``aws`` with the operator's credentials, ``local`` in the running emulator.

Their clients, the account or emulator named before anything changes, the
state bucket that proves something was deployed, and ``teardown``, which wires
a ``Teardown`` for the configured target and runs it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from config.settings import APP_STACK, AppConfig
from local.deploy import emulator_client, ensure_init, terraform_env
from ops.destroy.errors import NothingDeployed, TeardownError, error_code
from ops.destroy.final_backup import BackupInvoker, EmulatorInvoker, LambdaInvoker
from ops.destroy.options import Options
from ops.destroy.report import Report
from ops.destroy.steps import Teardown
from ops.destroy.terraform import TerraformCli

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client


def clients(config: AppConfig) -> tuple[S3Client, DynamoDBClient]:
    if config.is_local:
        return emulator_client("s3", config), emulator_client("dynamodb", config)
    return boto3.client("s3", region_name=config.region), boto3.client("dynamodb", region_name=config.region)


def where(config: AppConfig) -> str:
    """Which account or emulator: said before anything changes."""
    if config.is_local:
        return f"the emulator at {config.emulator_endpoint}"
    try:
        account = boto3.client("sts", region_name=config.region).get_caller_identity()["Account"]
    except (ClientError, BotoCoreError) as error:
        raise TeardownError(f"your AWS credentials do not work ({error}): set AWS_PROFILE or the like") from None
    return f"AWS account {account}, region {config.region}"


def check_state_bucket(s3: S3Client, config: AppConfig, place: str) -> None:
    """Raises NothingDeployed when the state bucket (or the emulator) is not there: nothing can be deployed."""
    try:
        s3.head_bucket(Bucket=config.state_bucket)
    except ClientError as error:
        if error_code(error) in ("404", "NoSuchBucket"):
            raise NothingDeployed(
                f"nothing to destroy in {place}: there is no state bucket {config.state_bucket}, "
                "so nothing was deployed with this configuration"
            ) from None
        raise TeardownError(f"cannot read the state bucket {config.state_bucket}: {error}") from None
    except BotoCoreError as error:
        if config.is_local:
            raise NothingDeployed(
                f"nothing to destroy: the emulator at {config.emulator_endpoint} does not answer ({error}); "
                "a stopped emulator holds nothing ('make down' discards what was deployed)"
            ) from None
        raise TeardownError(f"cannot reach S3 to read the state bucket: {error}") from None


def forget_outputs(outdir: Path) -> None:
    """The application stack's outputs describe nothing any more: tools reading them then say 'deploy first'."""
    path = outdir / "outputs.json"
    try:
        outputs = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(outputs, dict) and outputs.pop(APP_STACK, None) is not None:
        path.write_text(json.dumps(outputs, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def teardown(config: AppConfig, outdir: Path, options: Options) -> Report:
    stack_dir = outdir / "stacks" / APP_STACK
    if not (stack_dir / "cdk.tf.json").is_file():
        raise TeardownError(f"{stack_dir / 'cdk.tf.json'} does not exist: synthesize first (make destroy does)")
    s3, dynamodb = clients(config)
    place = where(config)
    check_state_bucket(s3, config, place)
    if config.is_local:
        env = terraform_env()
        log_dir = config.emulator_state_dir / "logs"
    else:
        env = {**os.environ, "TF_IN_AUTOMATION": "1"}
        log_dir = outdir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    ensure_init(stack_dir, env)
    invoker: BackupInvoker = EmulatorInvoker(config) if config.is_local else LambdaInvoker.for_region(config.region)
    terraform = TerraformCli(stack_dir, env, log_dir / f"{APP_STACK}.destroy.log")
    report = Teardown(config, place, stack_dir, s3, dynamodb, terraform, invoker).run(options)
    if not report.already_removed:
        forget_outputs(outdir)
        if config.is_local:
            report.notes.append(
                "The local edge, if it runs, serves nothing now: 'make down' stops it and the emulator."
            )
    return report
