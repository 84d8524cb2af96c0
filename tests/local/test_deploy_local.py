"""Both stacks deployed into a fresh emulator with the real Terraform and AWS provider.

The deploy is ``make up``'s (``local/deploy.py``: the bootstrap apply,
and the application apply as soon as the state bucket exists). The state lock
is observed by holding a second apply of the application stack at its
approval prompt; the cdktf CLI and ``make plan``'s script then run against
the deployed state, and the documented teardown ends the module.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from config.settings import APP_STACK, BOOTSTRAP_STACK, LOCAL_COGNITO_PATH
from lambdas.common import names
from modules.functions import catalog as functions
from modules.monitoring import spec as monitoring
from modules.site import assets as site_assets
from tests.asset_scan import findings
from tests.conftest import ROOT, EmulatorSettings, Synth, run
from tests.engine.test_engines import CDKTN, plan_with_engine, require_cdktn
from tests.synth_helpers import served_digest

pytestmark = pytest.mark.emulator

STATE_BUCKET = "student-management-tfstate"
STATE_KEY = "student-management/terraform.tfstate"
BACKUP_BUCKET = "student-backup-20250706"
LOG_BUCKET = "student-backup-logs-20250706"
WEBSITE_BUCKET = "student-management-website-2025"
#: The local environment's tags (issue 23): the emulator is an account of its own.
TAGS = {"Project": "StudentManagement", "Environment": "Local"}
BACKUP = functions.spec(functions.BACKUP)


@dataclass
class Deployment:
    emulator: EmulatorSettings
    app_dir: Path
    env: dict[str, str]
    lock_seen_while_applying: list[str]
    competing_plan_output: str
    outputs: dict[str, Any]

    def client(self, service: str, **credentials: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.emulator.endpoint,
            region_name="us-east-1",
            verify=str(self.emulator.ca_bundle),
            aws_access_key_id=credentials.get("key", "emulator"),
            aws_secret_access_key=credentials.get("secret", "emulator"),
            aws_session_token=credentials.get("token"),
        )

    def api_key_value(self) -> str:
        """The value of the deployed ``StudentApiKey``, as API Gateway holds it."""
        keys = self.client("apigateway").get_api_keys(includeValues=True)["items"]
        return str(next(key for key in keys if key["name"] == "StudentApiKey")["value"])

    def terraform(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return run(
            ["terraform", *args, "-no-color"],
            cwd=self.app_dir,
            env=self.env,
            timeout=900,
            stdin=stdin,
        )


def _apply_holding_the_lock(deployment: Deployment) -> tuple[list[str], str]:
    """Start an apply, and while Terraform waits for approval, list the state bucket and race it with a plan.

    The apply replaces the API key's secret version, so Terraform has something
    to ask about; the answer is "no", and nothing changes.
    """
    secret_version = next(
        line
        for line in deployment.terraform("state", "list").stdout.splitlines()
        if line.startswith("aws_secretsmanager_secret_version.")
    )
    # -refresh=false: the lock is taken before anything is planned, and a refresh of every resource would only
    # delay the question.
    apply = subprocess.Popen(
        ["terraform", "apply", "-no-color", "-input=true", "-refresh=false", f"-replace={secret_version}"],
        cwd=deployment.app_dir,
        env=deployment.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert apply.stdin is not None and apply.stdout is not None
    seen = ""
    while "Enter a value:" not in seen:
        chunk = apply.stdout.read(1)
        assert chunk, f"terraform apply ended before asking for approval:\n{seen[-3000:]}"
        seen += chunk
    s3 = deployment.client("s3")
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=STATE_BUCKET).get("Contents", [])]
    competing = deployment.terraform("plan", "-input=false", "-lock-timeout=0s")
    rest, _ = apply.communicate("no\n", timeout=900)
    assert "Apply cancelled." in seen + rest, (seen + rest)[-5000:]
    return keys, competing.stdout + competing.stderr


@pytest.fixture(scope="module")
def deployment(synth: dict[str, Synth], emulator: EmulatorSettings) -> Iterator[Deployment]:
    local = synth["local"]
    env = emulator.deploy_env()
    deploy = run(
        [sys.executable, "-m", "local.deploy", "--outdir", str(local.outdir)],
        cwd=ROOT,
        env=env,
        timeout=900,
    )
    assert deploy.returncode == 0, (deploy.stdout + deploy.stderr)[-5000:]
    outputs = json.loads((local.outdir / "outputs.json").read_text(encoding="utf-8"))
    deployment = Deployment(emulator, local.stack_dir(APP_STACK), env, [], "", outputs[APP_STACK])
    deployment.lock_seen_while_applying, deployment.competing_plan_output = _apply_holding_the_lock(deployment)
    yield deployment


def test_the_deploys_resource_list_is_terraforms_state_list(deployment: Deployment) -> None:
    """resources.json (what `make up`'s summary counts), read from `terraform state pull`, lists what
    `terraform state list` lists, data sources aside."""
    listed = json.loads((deployment.app_dir.parent.parent / "resources.json").read_text(encoding="utf-8"))
    for stack in (BOOTSTRAP_STACK, APP_STACK):
        state_list = run(["terraform", "state", "list"], cwd=deployment.app_dir.parent / stack, env=deployment.env)
        assert state_list.returncode == 0, state_list.stderr
        expected = sorted(line for line in state_list.stdout.splitlines() if line and not line.startswith("data."))
        assert listed[stack] == expected, stack
    assert len(listed[APP_STACK]) > 100


def test_bootstrap_state_lives_with_the_emulator(deployment: Deployment) -> None:
    assert (deployment.emulator.state_dir / "bootstrap.tfstate").is_file()
    assert deployment.client("s3").get_bucket_versioning(Bucket=STATE_BUCKET)["Status"] == "Enabled"


def test_application_state_is_in_the_emulator_state_bucket(deployment: Deployment) -> None:
    s3 = deployment.client("s3")
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=STATE_BUCKET).get("Contents", [])]
    assert keys == [STATE_KEY]
    state = json.loads(s3.get_object(Bucket=STATE_BUCKET, Key=STATE_KEY)["Body"].read())
    assert any(r["type"] == "aws_dynamodb_table" for r in state["resources"])
    assert s3.head_object(Bucket=STATE_BUCKET, Key=STATE_KEY)["ServerSideEncryption"] == "AES256"


def test_state_is_locked_while_applying(deployment: Deployment) -> None:
    assert f"{STATE_KEY}.tflock" in deployment.lock_seen_while_applying
    assert "Error acquiring the state lock" in deployment.competing_plan_output


def test_outputs_name_what_was_deployed(deployment: Deployment) -> None:
    assert deployment.outputs[names.OUTPUT_TABLE_NAME] == "studentData"
    assert deployment.outputs[names.OUTPUT_TABLE_ARN].endswith(":table/studentData")
    assert deployment.outputs[names.OUTPUT_BACKUP_BUCKET] == BACKUP_BUCKET
    assert deployment.outputs[names.OUTPUT_BACKUP_LOG_BUCKET] == LOG_BUCKET


def test_backup_bucket_reads_back_hardened(deployment: Deployment) -> None:
    s3 = deployment.client("s3")
    assert s3.get_bucket_versioning(Bucket=BACKUP_BUCKET)["Status"] == "Enabled"
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=BACKUP_BUCKET)["TagSet"]}
    assert tags == TAGS
    block = s3.get_public_access_block(Bucket=BACKUP_BUCKET)["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
    )
    ownership = s3.get_bucket_ownership_controls(Bucket=BACKUP_BUCKET)["OwnershipControls"]["Rules"]
    assert ownership == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    logging = s3.get_bucket_logging(Bucket=BACKUP_BUCKET)["LoggingEnabled"]
    assert logging["TargetBucket"] == LOG_BUCKET
    assert logging["TargetPrefix"] == "student-backup/"


def test_backup_bucket_policy_allows_only_the_role_to_put(deployment: Deployment) -> None:
    role_arn = deployment.client("iam").get_role(RoleName=BACKUP.role_name)["Role"]["Arn"]
    policy = json.loads(deployment.client("s3").get_bucket_policy(Bucket=BACKUP_BUCKET)["Policy"])
    allows = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert len(allows) == 1
    assert allows[0]["Principal"] == {"AWS": role_arn}
    assert allows[0]["Action"] in ("s3:PutObject", ["s3:PutObject"])
    assert allows[0]["Resource"] in (
        f"arn:aws:s3:::{BACKUP_BUCKET}/backups/*",
        [f"arn:aws:s3:::{BACKUP_BUCKET}/backups/*"],
    )
    sids = {s.get("Sid") for s in policy["Statement"]}
    assert {"DenyInsecureTransport", "DenyPutObjectExceptBackupRole"} <= sids


def test_log_bucket_admits_only_s3_log_delivery(deployment: Deployment) -> None:
    policy = json.loads(deployment.client("s3").get_bucket_policy(Bucket=LOG_BUCKET)["Policy"])
    allow = next(s for s in policy["Statement"] if s["Effect"] == "Allow")
    assert allow["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert allow["Condition"]["ArnLike"]["aws:SourceArn"] == f"arn:aws:s3:::{BACKUP_BUCKET}"


def test_table_reads_back_with_recovery_and_protection(deployment: Deployment) -> None:
    dynamodb = deployment.client("dynamodb")
    table = dynamodb.describe_table(TableName="studentData")["Table"]
    assert table["KeySchema"] == [{"AttributeName": names.STUDENT_KEY, "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["DeletionProtectionEnabled"] is True
    backups = dynamodb.describe_continuous_backups(TableName="studentData")["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def test_ses_identities_exist(deployment: Deployment) -> None:
    identities = deployment.client("ses").list_identities(IdentityType="EmailAddress")["Identities"]
    assert sorted(identities) == ["admin@example.com", "noreply@example.com"]


def test_backup_role_can_upload_a_backup(deployment: Deployment) -> None:
    role_arn = deployment.client("iam").get_role(RoleName=BACKUP.role_name)["Role"]["Arn"]
    session = deployment.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="test")["Credentials"]
    s3 = deployment.client(
        "s3", key=session["AccessKeyId"], secret=session["SecretAccessKey"], token=session["SessionToken"]
    )
    key = f"{names.BACKUP_PREFIX}backup-20250706-000000.json"
    s3.put_object(Bucket=BACKUP_BUCKET, Key=key, Body=b"[]", ContentType="application/json")
    assert deployment.client("s3").head_object(Bucket=BACKUP_BUCKET, Key=key)["ContentLength"] == 2


FUNCTION_ROLES = {row.name: row.role_name for row in functions.FUNCTIONS}


@pytest.mark.parametrize("name", sorted(FUNCTION_ROLES))
def test_function_reads_back_with_its_role_and_log_group(deployment: Deployment, name: str) -> None:
    config = deployment.client("lambda").get_function_configuration(FunctionName=name)
    assert config["Runtime"] == "python3.13"
    assert config["Role"].endswith(f":role/{FUNCTION_ROLES[name]}")
    assert config["Environment"]["Variables"][names.ENV_TABLE_NAME] == "studentData"
    assert config["Environment"]["Variables"][names.ENV_ALLOWED_ORIGIN] == "http://localhost:8000"
    groups = deployment.client("logs").describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")["logGroups"]
    assert [(g["logGroupName"], g["retentionInDays"]) for g in groups] == [(f"/aws/lambda/{name}", 365)]


def test_backup_function_reads_back_with_the_tutorial_sizes(deployment: Deployment) -> None:
    config = deployment.client("lambda").get_function_configuration(FunctionName=BACKUP.name)
    assert config["MemorySize"] == 128
    assert config["EphemeralStorage"] == {"Size": 512}
    variables = config["Environment"]["Variables"]
    assert variables[names.ENV_BACKUP_BUCKET] == BACKUP_BUCKET
    assert variables[names.ENV_SENDER_EMAIL] == "noreply@example.com"
    assert variables[names.ENV_RECIPIENT_EMAIL] == "admin@example.com"
    role = deployment.client("iam").get_role_policy(RoleName=BACKUP.role_name, PolicyName=BACKUP.policy_name)
    actions = {
        a
        for s in role["PolicyDocument"]["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert {"dynamodb:Scan", "s3:PutObject", "ses:SendEmail"} <= actions


def test_schedule_reads_back_daily_with_its_target(deployment: Deployment) -> None:
    schedule = deployment.client("scheduler").get_schedule(Name=str(BACKUP.schedule))
    assert schedule["ScheduleExpression"] == "cron(0 0 * * ? *)"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 5}
    assert schedule["Target"]["Arn"].endswith(f":function:{BACKUP.name}")
    assert schedule["Target"]["RoleArn"].endswith(f":role/{BACKUP.schedule}SchedulerRole")
    assert schedule["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 2


def test_api_reads_back_with_keyed_methods_and_validation(deployment: Deployment) -> None:
    apigateway = deployment.client("apigateway")
    api_id = deployment.outputs[names.OUTPUT_API_ID]
    assert apigateway.get_rest_api(restApiId=api_id)["name"] == "student"
    methods = {}
    for item in apigateway.get_resources(restApiId=api_id)["items"]:
        for verb in item.get("resourceMethods", {}):
            methods[(item["path"], verb)] = apigateway.get_method(
                restApiId=api_id, resourceId=item["id"], httpMethod=verb
            )
    keyed = {key for key, method in methods.items() if method.get("apiKeyRequired")}
    assert keyed == {("/students", "GET"), ("/students", "POST"), ("/backup", "POST"), ("/backup", "GET")}
    assert {("/students", "OPTIONS"), ("/backup", "OPTIONS")} <= set(methods)
    assert methods[("/students", "POST")]["requestModels"] == {"application/json": "Student"}
    validators = {v["name"]: v for v in apigateway.get_request_validators(restApiId=api_id)["items"]}
    assert validators["body-and-parameters"]["validateRequestBody"] is True
    assert methods[("/students", "POST")]["requestValidatorId"] == validators["body-and-parameters"]["id"]
    model = apigateway.get_model(restApiId=api_id, modelName="Student")
    assert json.loads(model["schema"])["required"] == list(names.STUDENT_FIELDS)
    integration = methods[("/students", "GET")]["methodIntegration"]
    assert integration["type"] == "AWS_PROXY"
    assert f":function:{functions.spec(functions.READ).name}/" in integration["uri"]


def test_usage_plan_binds_the_key_to_prod_with_its_limits(deployment: Deployment) -> None:
    apigateway = deployment.client("apigateway")
    api_id = deployment.outputs[names.OUTPUT_API_ID]
    plan = next(p for p in apigateway.get_usage_plans()["items"] if p["name"] == "StudentUsagePlan")
    assert plan["apiStages"] == [{"apiId": api_id, "stage": "prod"}]
    assert plan["throttle"] == {"rateLimit": 5.0, "burstLimit": 10}
    assert plan["quota"]["limit"] == 1000
    assert plan["quota"]["period"] == "DAY"
    keys = apigateway.get_usage_plan_keys(usagePlanId=plan["id"])["items"]
    assert [k["name"] for k in keys] == ["StudentApiKey"]
    stage = apigateway.get_stage(restApiId=api_id, stageName="prod")
    assert stage["accessLogSettings"]["destinationArn"].endswith("/aws/apigateway/student/prod")
    assert json.loads(stage["accessLogSettings"]["format"])["requestId"] == "$context.requestId"
    assert deployment.outputs[names.OUTPUT_API_URL].endswith("/prod")


def test_secret_holds_the_api_key_value(deployment: Deployment) -> None:
    key = deployment.api_key_value()
    secret = deployment.client("secretsmanager").get_secret_value(
        SecretId=deployment.outputs[names.OUTPUT_API_KEY_SECRET_ARN]
    )
    assert secret["SecretString"] == key
    assert key not in json.dumps(deployment.outputs)


def test_website_bucket_is_private_and_readable_only_by_the_distribution(deployment: Deployment) -> None:
    s3 = deployment.client("s3")
    bucket = deployment.outputs[names.OUTPUT_WEBSITE_BUCKET]
    assert bucket == WEBSITE_BUCKET
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert set(block.values()) == {True} and len(block) == 4
    ownership = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert ownership == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    with pytest.raises(ClientError, match="NoSuchWebsiteConfiguration"):
        s3.get_bucket_website(Bucket=bucket)
    distribution = deployment.client("cloudfront").get_distribution(
        Id=deployment.outputs[names.OUTPUT_SITE_DISTRIBUTION_ID]
    )["Distribution"]
    allows = [
        s for s in json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"] if s["Effect"] == "Allow"
    ]
    assert {s["Sid"] for s in allows} == {"AllowCloudFrontReadObjects", "AllowCloudFrontListKeys"}
    for statement in allows:
        assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
        assert statement["Condition"] == {"StringEquals": {"AWS:SourceArn": distribution["ARN"]}}


def test_website_bucket_holds_every_asset_with_its_type_and_cache_header(
    deployment: Deployment, tmp_path: Path
) -> None:
    s3 = deployment.client("s3")
    # config.json names the deployed staff pool and client: Terraform wrote their ids into it.
    sign_in = site_assets.StaffSignIn(
        region="us-east-1",
        user_pool_id=deployment.outputs[names.OUTPUT_STAFF_USER_POOL_ID],
        client_id=deployment.outputs[names.OUTPUT_STAFF_USER_POOL_CLIENT_ID],
        endpoint=LOCAL_COGNITO_PATH,
    )
    config = site_assets.runtime_config(sign_in=sign_in)
    built = {item.key: item for item in site_assets.build_site(tmp_path / "site", config=config)}
    stored = {item["Key"] for item in s3.list_objects_v2(Bucket=WEBSITE_BUCKET)["Contents"]}
    assert stored == set(built)
    for key, item in built.items():
        head = s3.head_object(Bucket=WEBSITE_BUCKET, Key=key)
        assert (key, head["ContentType"], head["CacheControl"]) == (key, item.content_type, item.cache_control)
        body = s3.get_object(Bucket=WEBSITE_BUCKET, Key=key)["Body"].read()
        assert hashlib.sha256(body).hexdigest() == item.sha256, key


def test_no_uploaded_object_holds_the_deployed_key_or_account(deployment: Deployment) -> None:
    s3 = deployment.client("s3")
    key = deployment.api_key_value()
    account = deployment.client("sts").get_caller_identity()["Account"]
    problems = []
    for item in s3.list_objects_v2(Bucket=WEBSITE_BUCKET)["Contents"]:
        text = s3.get_object(Bucket=WEBSITE_BUCKET, Key=item["Key"])["Body"].read().decode("utf-8")
        problems += findings(item["Key"], text, secrets=(key, account, deployment.outputs[names.OUTPUT_API_ID]))
    assert problems == []


def test_distribution_reads_back_with_its_oac_both_origins_and_the_key_header(deployment: Deployment) -> None:
    cloudfront = deployment.client("cloudfront")
    config = cloudfront.get_distribution_config(Id=deployment.outputs[names.OUTPUT_SITE_DISTRIBUTION_ID])[
        "DistributionConfig"
    ]
    assert config["Comment"] == "StudentWebsiteDistribution"
    assert config["DefaultRootObject"] == "index.html"
    origins = {origin["Id"]: origin for origin in config["Origins"]["Items"]}
    assert set(origins) == {"website-bucket", "student-api"}
    controls = cloudfront.list_origin_access_controls()["OriginAccessControlList"]["Items"]
    control = next(c for c in controls if c["Name"] == WEBSITE_BUCKET)
    assert (control["SigningBehavior"], control["SigningProtocol"]) == ("always", "sigv4")
    assert origins["website-bucket"]["OriginAccessControlId"] == control["Id"]
    assert origins["website-bucket"]["DomainName"].startswith(f"{WEBSITE_BUCKET}.s3.")
    api = origins["student-api"]
    assert api["DomainName"] == f"{deployment.outputs[names.OUTPUT_API_ID]}.execute-api.us-east-1.amazonaws.com"
    assert api["OriginPath"] == "/prod"
    assert api["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert api["CustomHeaders"]["Items"] == [{"HeaderName": "x-api-key", "HeaderValue": deployment.api_key_value()}]
    paths = {behaviour["PathPattern"]: behaviour for behaviour in config["CacheBehaviors"]["Items"]}
    assert set(paths) == {"/students", "/backup"}
    assert {behaviour["TargetOriginId"] for behaviour in paths.values()} == {"student-api"}
    site = deployment.outputs[names.OUTPUT_SITE_URL]
    domain = cloudfront.get_distribution(Id=deployment.outputs[names.OUTPUT_SITE_DISTRIBUTION_ID])["Distribution"][
        "DomainName"
    ]
    assert site == f"https://{domain}"


def test_make_plan_reports_no_changes_for_either_stack(deployment: Deployment) -> None:
    """`make plan`'s script against the deployed state: a binary plan, its text, and nothing to do."""
    synth_dir = deployment.app_dir.parent.parent
    plan = run(
        [str(ROOT / "pipeline" / "plan.sh")],
        cwd=ROOT,
        env={**deployment.env, "CDKTF_OUTDIR": str(synth_dir)},
        timeout=600,
    )
    assert plan.returncode == 0, (plan.stdout + plan.stderr)[-5000:]
    for stack in (BOOTSTRAP_STACK, APP_STACK):
        assert (synth_dir / "plan" / f"{stack}.tfplan").is_file()
        text = (synth_dir / "plan" / f"{stack}.txt").read_text(encoding="utf-8")
        assert "No changes. Your infrastructure matches the configuration." in text, text[-3000:]


def test_cdk_terrain_plans_the_deployment_cdktf_made_with_no_changes(deployment: Deployment, tmp_path: Path) -> None:
    """Issue 24: the system cdktf deployed, synthesized by CDK Terrain and planned against its state: nothing to do.

    Both stacks, with `make plan`'s script, from CDK Terrain's own output directory (its own `terraform init`):
    the engines' JSON differs only in what tests/engine/test_engines.py pins, none of it a change to Terraform.
    The reverse (CDK Terrain's `make up`, planned by cdktf) is tests/system/test_make_down_up.py's.
    """
    require_cdktn()
    plans = plan_with_engine(CDKTN, deployment.env, tmp_path / "cdktn")
    for stack, text in plans.items():
        assert "No changes. Your infrastructure matches the configuration." in text, (stack, text[-3000:])


def test_cdktf_cli_diffs_and_deploys_the_deployed_stack(deployment: Deployment) -> None:
    """The cdktf CLI still drives the synthesized output: `cdktf diff` and `cdktf deploy` find nothing to do."""
    synth_dir = deployment.app_dir.parent.parent
    cli = ["npx", "--no-install", "cdktf"]
    common = [BOOTSTRAP_STACK, "--skip-synth", "--output", str(synth_dir)]
    diff = run([*cli, "diff", *common], cwd=ROOT, env=deployment.env, timeout=600)
    assert diff.returncode == 0, (diff.stdout + diff.stderr)[-5000:]
    assert "No changes" in diff.stdout
    deploy = run(
        [*cli, "deploy", *common, "--skip-provider-lock", "--auto-approve"], cwd=ROOT, env=deployment.env, timeout=600
    )
    assert deploy.returncode == 0, (deploy.stdout + deploy.stderr)[-5000:]
    assert "No changes" in deploy.stdout


def scratch_plan(deployment: Deployment, tmp_path: Path, edit: Callable[[dict[str, Any]], str]) -> tuple[Path, str]:
    """A read-only plan of the deployed stack with its cdk.tf.json edited: its JSON file, and the JSON.

    The plan is made in a scratch copy of the deployed stack (its assets copied) against the same
    state: read only (`-lock=false`, `-refresh=false`), through the deployed directory's own backend
    and providers (TF_DATA_DIR: no second `terraform init`). ``edit`` changes the configuration and
    answers the address to plan (``-target``: that resource and what it depends on, nothing else).
    """
    scratch = tmp_path / APP_STACK
    shutil.copytree(deployment.app_dir, scratch, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    config = json.loads((scratch / "cdk.tf.json").read_text(encoding="utf-8"))
    target = edit(config)
    (scratch / "cdk.tf.json").write_text(json.dumps(config), encoding="utf-8")
    env = {k: v for k, v in deployment.env.items() if k != "ALLOW_REPLACE"}
    env["TF_DATA_DIR"] = str(deployment.app_dir / ".terraform")
    plan = run(
        [
            "terraform",
            "plan",
            "-input=false",
            "-no-color",
            "-lock=false",
            "-refresh=false",
            f"-target={target}",
            "-out=edited.tfplan",
        ],
        cwd=scratch,
        env=env,
        timeout=900,
    )
    assert plan.returncode == 0, (plan.stdout + plan.stderr)[-5000:]
    show = run(["terraform", "show", "-json", "edited.tfplan"], cwd=scratch, env=env)
    assert show.returncode == 0, show.stderr[-5000:]
    plan_json = scratch / f"{APP_STACK}.json"
    plan_json.write_text(show.stdout, encoding="utf-8")
    return plan_json, show.stdout


def test_guard_refuses_a_real_plan_that_replaces_the_table(deployment: Deployment, tmp_path: Path) -> None:
    """A renamed table must be replaced: `plan_summary.py --guard` refuses that real plan, naming the table."""
    names: list[str] = []

    def rename_table(config: dict[str, Any]) -> str:
        [(name, table)] = [
            (name, table)
            for name, table in config["resource"]["aws_dynamodb_table"].items()
            if table["//"]["metadata"]["path"] == f"{APP_STACK}/students/table"
        ]
        table["name"] += "-renamed"
        # prevent_destroy would make `terraform plan` itself fail before the guard sees the plan.
        table["lifecycle"]["prevent_destroy"] = False
        names.append(name)
        return f"aws_dynamodb_table.{name}"

    plan_json, _ = scratch_plan(deployment, tmp_path, rename_table)
    [name] = names
    env = {k: v for k, v in deployment.env.items() if k != "ALLOW_REPLACE"}
    guard = run([sys.executable, "-m", "pipeline.plan_summary", "--guard", str(plan_json)], cwd=ROOT, env=env)
    assert guard.returncode == 2, guard.stdout + guard.stderr
    assert f"REPLACE  aws_dynamodb_table.{name}" in guard.stderr, guard.stderr


def test_a_method_whose_key_requirement_changes_gets_a_new_deployment(deployment: Deployment, tmp_path: Path) -> None:
    """The deployment's trigger digests what the stage serves: a changed method redeploys.

    API Gateway serves a stage's deployment, not the API as it is: before the digest, a method's
    ``api_key_required`` was not part of the trigger, so turning it off changed the method and
    nothing the stage served. Planned read only against the deployed state, as the guard test is.
    """
    names: list[str] = []

    def open_get_students(config: dict[str, Any]) -> str:
        [method] = [
            body
            for body in config["resource"]["aws_api_gateway_method"].values()
            if body["//"]["metadata"]["path"] == f"{APP_STACK}/api/get-students"
        ]
        method["api_key_required"] = False
        [(name, api_deployment)] = config["resource"]["aws_api_gateway_deployment"].items()
        # What a synth of the changed method writes (tests/modules/test_api.py proves the two agree).
        assert api_deployment["triggers"]["served"] != served_digest(config)
        api_deployment["triggers"]["served"] = served_digest(config)
        names.append(name)
        return f"aws_api_gateway_deployment.{name}"

    _, show = scratch_plan(deployment, tmp_path, open_get_students)
    [name] = names
    changes = {
        change["address"]: change["change"]["actions"]
        for change in json.loads(show)["resource_changes"]
        if change["change"]["actions"] != ["no-op"]
    }
    [(method_address, method_actions)] = [(a, c) for a, c in changes.items() if a.startswith("aws_api_gateway_method.")]
    assert method_actions == ["update"], method_address
    # A new deployment before the old one goes (create_before_destroy), and the stage moves to it.
    assert changes[f"aws_api_gateway_deployment.{name}"] == ["create", "delete"]


# --- Staff sign-in (modules/identity/staff_directory.py) ----------------------------------------


def test_staff_pool_reads_back_invite_only_with_its_password_policy(deployment: Deployment) -> None:
    idp = deployment.client("cognito-idp")
    pool = idp.describe_user_pool(UserPoolId=deployment.outputs[names.OUTPUT_STAFF_USER_POOL_ID])["UserPool"]
    assert pool["Name"] == "student-management-staff"
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert (pool["UsernameAttributes"], pool["AutoVerifiedAttributes"]) == (["email"], ["email"])
    assert pool["UsernameConfiguration"] == {"CaseSensitive": False}
    policy = pool["Policies"]["PasswordPolicy"]
    assert {key: policy[key] for key in policy if key != "PasswordHistorySize"} == {
        "MinimumLength": 14,
        "RequireUppercase": True,
        "RequireLowercase": True,
        "RequireNumbers": True,
        "RequireSymbols": True,
        "TemporaryPasswordValidityDays": 3,
    }
    assert pool["AccountRecoverySetting"] == {"RecoveryMechanisms": [{"Priority": 1, "Name": "verified_email"}]}
    # The local target's settings: no second factor, and a pool a teardown may delete.
    assert (pool["MfaConfiguration"], pool["DeletionProtection"]) == ("OFF", "INACTIVE")
    assert not pool.get("UserPoolAddOns"), "advanced security is billed per user: not enabled"


def test_page_client_reads_back_public_with_exactly_its_flows_and_short_tokens(deployment: Deployment) -> None:
    client = deployment.client("cognito-idp").describe_user_pool_client(
        UserPoolId=deployment.outputs[names.OUTPUT_STAFF_USER_POOL_ID],
        ClientId=deployment.outputs[names.OUTPUT_STAFF_USER_POOL_CLIENT_ID],
    )["UserPoolClient"]
    assert client["ClientName"] == "student-management-page"
    assert "ClientSecret" not in client
    assert sorted(client["ExplicitAuthFlows"]) == ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH"]
    assert (client["EnableTokenRevocation"], client["PreventUserExistenceErrors"]) == (True, "ENABLED")
    assert (client["IdTokenValidity"], client["AccessTokenValidity"], client["RefreshTokenValidity"]) == (15, 15, 12)
    assert client["TokenValidityUnits"] == {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "hours"}
    assert client["AuthSessionValidity"] == 10


def test_staff_pool_has_the_staff_and_admin_groups(deployment: Deployment) -> None:
    groups = deployment.client("cognito-idp").list_groups(
        UserPoolId=deployment.outputs[names.OUTPUT_STAFF_USER_POOL_ID]
    )
    assert sorted(group["GroupName"] for group in groups["Groups"]) == [names.ADMIN_GROUP, names.STAFF_GROUP]


def test_every_api_method_but_the_preflights_requires_a_token_of_the_staff_pool(deployment: Deployment) -> None:
    apigateway = deployment.client("apigateway")
    api_id = deployment.outputs[names.OUTPUT_API_ID]
    (authorizer,) = apigateway.get_authorizers(restApiId=api_id)["items"]
    pool_id = deployment.outputs[names.OUTPUT_STAFF_USER_POOL_ID]
    assert authorizer["type"] == "COGNITO_USER_POOLS"
    assert authorizer["providerARNs"] == [f"arn:aws:cognito-idp:us-east-1:123456789012:userpool/{pool_id}"]
    assert authorizer["identitySource"] == "method.request.header.Authorization"
    assert authorizer["authorizerResultTtlInSeconds"] == 0
    guarded, open_ = set(), set()
    for item in apigateway.get_resources(restApiId=api_id)["items"]:
        for verb in item.get("resourceMethods", {}):
            method = apigateway.get_method(restApiId=api_id, resourceId=item["id"], httpMethod=verb)
            if verb == "OPTIONS":
                assert (method["authorizationType"], method.get("authorizerId")) == ("NONE", None), item["path"]
                open_.add((item["path"], verb))
            else:
                assert method["authorizationType"] == "COGNITO_USER_POOLS", (item["path"], verb)
                assert method["authorizerId"] == authorizer["id"], (item["path"], verb)
                assert method["apiKeyRequired"] is True, (item["path"], verb)
                guarded.add((item["path"], verb))
    assert guarded == {(route.path, route.method) for _, route in functions.routes()}
    assert open_ == {("/students", "OPTIONS"), ("/backup", "OPTIONS")}
    refusals = {r["responseType"]: r for r in apigateway.get_gateway_responses(restApiId=api_id)["items"]}
    for response_type in ("UNAUTHORIZED", "ACCESS_DENIED"):
        headers = refusals[response_type]["responseParameters"]
        assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == "'http://localhost:8000'"


def test_an_invited_member_signs_in_with_the_pages_flow_and_carries_the_group_claim(deployment: Deployment) -> None:
    """An invited member: the temporary password, the new-password challenge, the groups claim in the ID token."""
    idp = deployment.client("cognito-idp")
    pool_id = deployment.outputs[names.OUTPUT_STAFF_USER_POOL_ID]
    client_id = deployment.outputs[names.OUTPUT_STAFF_USER_POOL_CLIENT_ID]
    email = "head@school.example"
    idp.admin_create_user(
        UserPoolId=pool_id,
        Username=email,
        TemporaryPassword="Temporary-Passw0rd!",
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        MessageAction="SUPPRESS",
    )
    idp.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=names.ADMIN_GROUP)
    first = idp.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": "Temporary-Passw0rd!"},
    )
    assert first["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    answered = idp.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=first["Session"],
        ChallengeResponses={"USERNAME": email, "NEW_PASSWORD": "A-much-longer-passw0rd!"},
    )["AuthenticationResult"]
    claims = json.loads(base64.urlsafe_b64decode(answered["IdToken"].split(".")[1] + "=="))
    assert claims["token_use"] == "id"
    assert claims["aud"] == client_id
    assert claims["iss"] == f"https://cognito-idp.us-east-1.amazonaws.com/{pool_id}"
    assert claims[names.GROUPS_CLAIM] == [names.ADMIN_GROUP]
    with pytest.raises(ClientError, match="NotAuthorizedException"):
        idp.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": "Temporary-Passw0rd!"},
        )


def test_emulator_keeps_what_a_pool_update_cannot_change(deployment: Deployment) -> None:
    """local/emulator/corrections/cognito.py: UpdateUserPool keeps sign-in by e-mail and the tags, as AWS does.

    moto replaced the whole configuration with the update's, so any change to the pool (``staff_mfa``,
    say) made the next plan replace it, and every staff account with it.
    """
    idp = deployment.client("cognito-idp")
    pool_id = deployment.outputs[names.OUTPUT_STAFF_USER_POOL_ID]
    before = idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    idp.update_user_pool(
        UserPoolId=pool_id,
        Policies=before["Policies"],
        AutoVerifiedAttributes=before["AutoVerifiedAttributes"],
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        AccountRecoverySetting=before["AccountRecoverySetting"],
        DeletionProtection="INACTIVE",
    )
    after = idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert after["UsernameAttributes"] == before["UsernameAttributes"] == ["email"]
    assert after["UsernameConfiguration"] == before["UsernameConfiguration"] == {"CaseSensitive": False}
    assert after["UserPoolTags"] == before["UserPoolTags"] == TAGS


# --- issue 12, nobody left uninformed: what modules/monitoring/alarms.py deployed ------------------------

SCHEDULE_QUEUE = f"{BACKUP.schedule}-undelivered"


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def _queue_arn(deployment: Deployment, name: str) -> str:
    sqs = deployment.client("sqs")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def _sends_to(deployment: Deployment, role: str, policy: str) -> list[Any]:
    """The resources a role's inline policy lets it send SQS messages to."""
    document = deployment.client("iam").get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
    return [s["Resource"] for s in document["Statement"] if any(a.startswith("sqs:") for a in _actions(s))]


def test_dead_letter_queues_read_back_encrypted_and_attached(deployment: Deployment) -> None:
    sqs = deployment.client("sqs")
    for name in (monitoring.FAILED_INVOCATIONS_QUEUE, SCHEDULE_QUEUE):
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert (attributes["SqsManagedSseEnabled"], attributes["MessageRetentionPeriod"]) == ("true", "1209600")
    failed = _queue_arn(deployment, monitoring.FAILED_INVOCATIONS_QUEUE)
    for row in functions.FUNCTIONS:
        config = deployment.client("lambda").get_function_configuration(FunctionName=row.name)
        assert config["DeadLetterConfig"] == {"TargetArn": failed}, row.name
        assert _sends_to(deployment, row.role_name, row.policy_name) in ([failed], [[failed]]), row.name
    undelivered = _queue_arn(deployment, SCHEDULE_QUEUE)
    target = deployment.client("scheduler").get_schedule(Name=str(BACKUP.schedule))["Target"]
    assert target["DeadLetterConfig"] == {"Arn": undelivered}
    role = f"{BACKUP.schedule}SchedulerRole"
    assert _sends_to(deployment, role, f"{BACKUP.schedule}-invoke") in ([undelivered], [[undelivered]])


def test_alarm_topic_reads_back_encrypted_confined_and_subscribed(deployment: Deployment) -> None:
    account = deployment.client("sts").get_caller_identity()["Account"]
    topic = f"arn:aws:sns:us-east-1:{account}:{monitoring.TOPIC_NAME}"
    sns, kms = deployment.client("sns"), deployment.client("kms")
    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    key = kms.describe_key(KeyId=monitoring.TOPIC_KEY_ALIAS)["KeyMetadata"]
    assert attributes["KmsMasterKeyId"] == key["Arn"]
    assert (key["KeyManager"], key["Enabled"]) == ("CUSTOMER", True)
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is True
    key_policy = json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])
    cloudwatch = next(s for s in key_policy["Statement"] if s["Sid"] == "CloudWatchAlarmsUseKey")
    assert cloudwatch["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    allows = [s for s in json.loads(attributes["Policy"])["Statement"] if s["Effect"] == "Allow"]
    assert [(s["Sid"], s["Principal"], _actions(s)) for s in allows] == [
        ("CloudWatchAlarmsPublish", {"Service": "cloudwatch.amazonaws.com"}, ["sns:Publish"])
    ]
    assert allows[0]["Condition"] == {
        "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:us-east-1:{account}:alarm:*"},
        "StringEquals": {"aws:SourceAccount": account},
    }
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("email", "admin@example.com")]


def test_alarms_read_back_with_their_thresholds_and_the_topic(deployment: Deployment) -> None:
    pages = deployment.client("cloudwatch").get_paginator("describe_alarms").paginate(AlarmTypes=["MetricAlarm"])
    alarms = {alarm["AlarmName"]: alarm for page in pages for alarm in page["MetricAlarms"]}
    expected = {f"{row.name}-{kind}" for row in functions.FUNCTIONS for kind in ("errors", "throttles")}
    expected |= {"student-prod-5xx", "backup-missing-26h", "backup-failed", "backup-email-failed"}
    expected |= {f"{queue}-not-empty" for queue in (monitoring.FAILED_INVOCATIONS_QUEUE, SCHEDULE_QUEUE)}
    assert set(alarms) == expected
    account = deployment.client("sts").get_caller_identity()["Account"]
    topic = f"arn:aws:sns:us-east-1:{account}:{monitoring.TOPIC_NAME}"
    for name, alarm in alarms.items():
        assert (alarm["ActionsEnabled"], alarm["AlarmActions"], alarm["OKActions"]) == (True, [topic], [topic]), name
    for row in functions.FUNCTIONS:
        errors = alarms[f"{row.name}-errors"]
        assert (errors["Namespace"], errors["MetricName"]) == ("AWS/Lambda", "Errors")
        assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": row.name}]
    api = alarms["student-prod-5xx"]
    assert sorted((d["Name"], d["Value"]) for d in api["Dimensions"]) == [("ApiName", "student"), ("Stage", "prod")]
    missing = alarms["backup-missing-26h"]
    assert (missing["Namespace"], missing["MetricName"], missing["Dimensions"]) == (
        names.METRIC_NAMESPACE,
        names.METRIC_BACKUP_SUCCEEDED,
        [],
    )
    assert (missing["Period"], missing["EvaluationPeriods"], missing["DatapointsToAlarm"]) == (3600, 26, 26)
    assert (missing["ComparisonOperator"], missing["Threshold"], missing["TreatMissingData"]) == (
        "LessThanThreshold",
        1.0,
        "breaching",
    )
    for name, metric in (
        ("backup-failed", names.METRIC_BACKUP_FAILED),
        ("backup-email-failed", names.METRIC_BACKUP_EMAIL_FAILED),
    ):
        alarm = alarms[name]
        assert (alarm["MetricName"], alarm["ComparisonOperator"], alarm["Threshold"]) == (
            metric,
            "GreaterThanOrEqualToThreshold",
            1.0,
        )


def test_saved_queries_read_back_over_their_log_groups(deployment: Deployment) -> None:
    logs = deployment.client("logs")
    found = logs.describe_query_definitions(queryDefinitionNamePrefix=f"{monitoring.QUERY_FOLDER}/")["queryDefinitions"]
    definitions = {d["name"]: d for d in found}
    assert set(definitions) == set(monitoring.QUERY_STRINGS)
    groups = {
        monitoring.SAVED_STUDENTS_QUERY: [functions.spec(functions.INSERT).name],
        monitoring.COMPLETED_BACKUPS_QUERY: [BACKUP.name],
        monitoring.ERRORS_QUERY: [row.name for row in functions.FUNCTIONS],
    }
    for name, definition in definitions.items():
        assert definition["queryString"] == monitoring.QUERY_STRINGS[name], name
        assert definition["logGroupNames"] == [f"/aws/lambda/{function}" for function in groups[name]], name


def test_backup_bucket_expires_backups_after_the_retention(deployment: Deployment) -> None:
    rules = deployment.client("s3").get_bucket_lifecycle_configuration(Bucket=BACKUP_BUCKET)["Rules"]
    (backups,) = [rule for rule in rules if "Expiration" in rule]
    assert {key: value for key, value in backups.items() if key != "ID"} == {
        "Filter": {"Prefix": names.BACKUP_PREFIX},
        "Status": "Enabled",
        "Expiration": {"Days": 35},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
    }
    (noncurrent,) = [rule for rule in rules if "NoncurrentVersionExpiration" in rule]
    assert (noncurrent["Filter"], noncurrent["NoncurrentVersionExpiration"]) == ({"Prefix": ""}, {"NoncurrentDays": 90})


def test_emulator_keeps_query_definitions_as_aws_does(deployment: Deployment) -> None:
    """Saved queries (local/emulator/corrections/logs.py): create, replace by id, page, delete; unknown ids refused."""
    logs = deployment.client("logs")
    created = logs.put_query_definition(
        name="probe/one", queryString="fields @message", logGroupNames=["/aws/lambda/getStudentData"]
    )["queryDefinitionId"]
    assert (
        logs.put_query_definition(queryDefinitionId=created, name="probe/one", queryString="fields @timestamp")[
            "queryDefinitionId"
        ]
        == created
    )
    listed = logs.describe_query_definitions(queryDefinitionNamePrefix="probe/")["queryDefinitions"]
    assert [(d["queryDefinitionId"], d["queryString"], d["logGroupNames"]) for d in listed] == [
        (created, "fields @timestamp", [])
    ]
    first = logs.describe_query_definitions(maxResults=1)
    rest = logs.describe_query_definitions(maxResults=1000, nextToken=first["nextToken"])
    everything = [d["name"] for d in first["queryDefinitions"] + rest["queryDefinitions"]]
    assert sorted(everything) == sorted([*monitoring.QUERY_STRINGS, "probe/one"])
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        logs.put_query_definition(queryDefinitionId="no-such-id", name="probe/two", queryString="fields @message")
    assert logs.delete_query_definition(queryDefinitionId=created)["success"] is True
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        logs.delete_query_definition(queryDefinitionId=created)
    assert logs.describe_query_definitions(queryDefinitionNamePrefix="probe/")["queryDefinitions"] == []


def test_emulator_keeps_and_clears_a_functions_dead_letter_queue(deployment: Deployment, tmp_path: Path) -> None:
    """The Lambda correction (corrections/awslambda.py) answers the DeadLetterConfig a function was given, and none
    once it is cleared; as Lambda does, it refuses a queue the execution role may not send to."""
    aws_lambda = deployment.client("lambda")
    deployed = aws_lambda.get_function_configuration(FunctionName=BACKUP.name)
    archive = tmp_path / "probe.zip"
    with zipfile.ZipFile(archive, "w") as probe:
        probe.writestr("probe.py", "def handler(event, context):\n    return event\n")
    queue = deployed["DeadLetterConfig"]["TargetArn"]  # the one the backup role may send to
    probe = {"FunctionName": "dead-letter-probe", "Runtime": "python3.13", "Role": deployed["Role"]}
    with pytest.raises(aws_lambda.exceptions.InvalidParameterValueException, match="permissions to call SendMessage"):
        aws_lambda.create_function(
            **probe,
            Handler="probe.handler",
            Code={"ZipFile": archive.read_bytes()},
            DeadLetterConfig={"TargetArn": _queue_arn(deployment, SCHEDULE_QUEUE)},  # the schedule's, not the role's
        )
    aws_lambda.create_function(
        **probe, Handler="probe.handler", Code={"ZipFile": archive.read_bytes()}, DeadLetterConfig={"TargetArn": queue}
    )
    try:
        assert aws_lambda.get_function(FunctionName="dead-letter-probe")["Configuration"]["DeadLetterConfig"] == {
            "TargetArn": queue
        }
        aws_lambda.update_function_configuration(FunctionName="dead-letter-probe", DeadLetterConfig={"TargetArn": ""})
        assert "DeadLetterConfig" not in aws_lambda.get_function_configuration(FunctionName="dead-letter-probe")
    finally:
        aws_lambda.delete_function(FunctionName="dead-letter-probe")


def test_backup_runs_table_reads_back_with_its_key_and_expiry(deployment: Deployment) -> None:
    dynamodb = deployment.client("dynamodb")
    runs_table = deployment.outputs[names.OUTPUT_RUNS_TABLE_NAME]
    table = dynamodb.describe_table(TableName=runs_table)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "runId", "KeyType": "HASH"}]
    ttl = dynamodb.describe_time_to_live(TableName=runs_table)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expiresAt")
    variables = deployment.client("lambda").get_function_configuration(FunctionName=BACKUP.name)["Environment"]
    assert variables["Variables"][names.ENV_RUNS_TABLE_NAME] == runs_table


def test_make_destroy_backs_up_keeps_the_table_and_backups_and_removes_the_rest(deployment: Deployment) -> None:
    """docs/DEPLOYING.md "Removing a deployment": ``make destroy``'s script, asked nothing, keeping the backups.

    The final backup runs the deployed function's zip as the local edge does (no edge is running)
    and must hold the students written just before; the table and both backup buckets leave the
    state and stay as they were; everything else is destroyed. A second run finds nothing to do.
    """
    dynamodb, s3 = deployment.client("dynamodb"), deployment.client("s3")
    students = [f"SV-TEARDOWN-{n}" for n in range(3)]
    for studentid in students:
        item = {"studentid": studentid, "name": "Trần Thị Bình", "class": "CNTT1", "birthdate": "2001-02-03"}
        dynamodb.put_item(TableName="studentData", Item={k: {"S": v} for k, v in item.items()})
    items = dynamodb.scan(TableName="studentData", Select="COUNT")["Count"]
    before = {o["Key"] for o in s3.list_objects_v2(Bucket=BACKUP_BUCKET).get("Contents", [])}
    command = [
        sys.executable,
        "-m",
        "ops.destroy",
        "--outdir",
        str(deployment.app_dir.parent.parent),
        "--backups",
        "keep",
        "--yes",
    ]
    destroy = run(command, cwd=ROOT, env=deployment.env, timeout=1200, stdin="")
    assert destroy.returncode == 0, (destroy.stdout + destroy.stderr)[-5000:]

    assert deployment.terraform("state", "list").stdout.strip() == ""
    table = dynamodb.describe_table(TableName="studentData")["Table"]
    assert (table["TableStatus"], table["DeletionProtectionEnabled"]) == ("ACTIVE", True)
    assert dynamodb.scan(TableName="studentData", Select="COUNT")["Count"] == items
    assert {b["Name"] for b in s3.list_buckets()["Buckets"]} == {STATE_BUCKET, BACKUP_BUCKET, LOG_BUCKET}
    assert s3.get_bucket_versioning(Bucket=BACKUP_BUCKET)["Status"] == "Enabled"
    assert s3.get_bucket_logging(Bucket=BACKUP_BUCKET)["LoggingEnabled"]["TargetBucket"] == LOG_BUCKET
    assert "DenyPutObjectExceptBackupRole" in s3.get_bucket_policy(Bucket=BACKUP_BUCKET)["Policy"]
    final = {o["Key"] for o in s3.list_objects_v2(Bucket=BACKUP_BUCKET).get("Contents", [])} - before
    written = b"".join(s3.get_object(Bucket=BACKUP_BUCKET, Key=key)["Body"].read() for key in final)
    assert final and all(studentid.encode() in written for studentid in students), sorted(final)

    assert deployment.client("cloudfront").list_distributions()["DistributionList"].get("Items", []) == []
    assert [r["RoleName"] for r in deployment.client("iam").list_roles()["Roles"]] == []
    assert deployment.client("lambda").list_functions()["Functions"] == []
    assert deployment.client("apigateway").get_rest_apis()["items"] == []
    assert deployment.client("scheduler").list_schedules()["Schedules"] == []
    assert [t for t in dynamodb.list_tables()["TableNames"] if t != "studentData"] == []
    report = " ".join(destroy.stdout[destroy.stdout.index("==> make destroy: done") :].split())
    assert "table studentData: ACTIVE" in report and f"bucket {BACKUP_BUCKET}:" in report, report
    assert all(key in report for key in final), report

    again = run(command, cwd=ROOT, env=deployment.env, timeout=600, stdin="")
    assert again.returncode == 0, (again.stdout + again.stderr)[-5000:]
    assert "nothing to destroy" in again.stdout and "already removed" in again.stdout, again.stdout
    assert f"bucket {BACKUP_BUCKET}:" in " ".join(again.stdout.split()), again.stdout
