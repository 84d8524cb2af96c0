"""The synthesized stacks of both deploy targets: snapshots and the properties that matter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from config.settings import APP_STACK, AWS_PROVIDER_CONSTRAINT, BOOTSTRAP_STACK, TERRAFORM_VERSION_CONSTRAINT
from modules.stacks.terraform import EMULATED_SERVICES
from tests.conftest import ROOT, STACKS, TARGETS, EmulatorSettings, Synth, run, tool_env
from tests.synth_helpers import normalise, policy_statements, resource


@pytest.fixture
def json_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("target", TARGETS)
def test_stack_matches_snapshot(
    synth: dict[str, Synth],
    emulator_settings: EmulatorSettings,
    json_snapshot: SnapshotAssertion,
    target: str,
    stack: str,
) -> None:
    assert normalise(synth[target].stack(stack), emulator_settings) == json_snapshot


@pytest.mark.parametrize("stack", STACKS)
def test_aws_target_holds_no_emulator_setting(synth: dict[str, Synth], stack: str) -> None:
    text = json.dumps(synth["aws"].stack(stack))
    for marker in ("127.0.0.1", ":4566", "endpoints", "custom_ca_bundle", "use_path_style", ".emulator"):
        assert marker not in text


@pytest.mark.parametrize("stack", STACKS)
def test_local_target_sends_every_service_to_the_emulator(
    synth: dict[str, Synth], emulator_settings: EmulatorSettings, stack: str
) -> None:
    provider = synth["local"].stack(stack)["provider"]["aws"][0]
    assert provider["endpoints"] == [{service: emulator_settings.endpoint for service in EMULATED_SERVICES}]
    assert provider["custom_ca_bundle"] == str(emulator_settings.ca_bundle)
    assert provider["endpoints"][0]["s3"].startswith("https://")


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("target", TARGETS)
def test_provider_constraint_admits_the_mirror_and_6x(synth: dict[str, Synth], target: str, stack: str) -> None:
    terraform = synth[target].stack(stack)["terraform"]
    assert terraform["required_providers"]["aws"]["version"] == AWS_PROVIDER_CONSTRAINT
    assert terraform["required_providers"]["aws"]["source"] == "aws"
    assert terraform["required_version"] == TERRAFORM_VERSION_CONSTRAINT


@pytest.mark.parametrize("target", TARGETS)
def test_every_resource_carries_the_project_tags(synth: dict[str, Synth], target: str) -> None:
    for stack in STACKS:
        provider = synth[target].stack(stack)["provider"]["aws"][0]
        # Without ENV the local target is the local environment, tagged as its own (the emulator is its account).
        environment = "Local" if target == "local" else "Production"
        assert provider["default_tags"] == [{"tags": {"Project": "StudentManagement", "Environment": environment}}]
        assert provider["region"] == "us-east-1"


@pytest.mark.parametrize("target", TARGETS)
def test_application_state_is_in_the_bootstrap_bucket_encrypted_and_locked(
    synth: dict[str, Synth], target: str
) -> None:
    backend = synth[target].stack(APP_STACK)["terraform"]["backend"]
    assert list(backend) == ["s3"]
    s3 = backend["s3"]
    bootstrap = synth[target].stack(BOOTSTRAP_STACK)
    state_bucket = resource(bootstrap, "aws_s3_bucket", f"{BOOTSTRAP_STACK}/state/state/bucket")
    assert s3["bucket"] == state_bucket["bucket"] == "student-management-tfstate"
    assert s3["key"] == "student-management/terraform.tfstate"
    assert s3["encrypt"] is True
    assert s3["use_lockfile"] is True
    assert "dynamodb_table" not in s3


def test_local_backend_talks_to_the_emulator_over_tls(
    synth: dict[str, Synth], emulator_settings: EmulatorSettings
) -> None:
    s3 = synth["local"].stack(APP_STACK)["terraform"]["backend"]["s3"]
    assert s3["endpoints"] == {"s3": emulator_settings.endpoint, "sts": emulator_settings.endpoint}
    assert s3["custom_ca_bundle"] == str(emulator_settings.ca_bundle)
    assert s3["use_path_style"] is True


@pytest.mark.parametrize("target", TARGETS)
def test_bootstrap_state_is_local_and_the_bucket_is_hardened(synth: dict[str, Synth], target: str) -> None:
    stack = synth[target].stack(BOOTSTRAP_STACK)
    assert list(stack["terraform"]["backend"]) == ["local"]
    prefix = f"{BOOTSTRAP_STACK}/state/state"
    assert resource(stack, "aws_s3_bucket", f"{prefix}/bucket")["lifecycle"] == {"prevent_destroy": True}
    versioning = resource(stack, "aws_s3_bucket_versioning", f"{prefix}/versioning")
    assert versioning["versioning_configuration"] == {"status": "Enabled"}
    block = resource(stack, "aws_s3_bucket_public_access_block", f"{prefix}/public-access-block")
    for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
        assert block[flag] is True
    ownership = resource(stack, "aws_s3_bucket_ownership_controls", f"{prefix}/ownership")
    assert ownership["rule"] == {"object_ownership": "BucketOwnerEnforced"}
    encryption = resource(stack, "aws_s3_bucket_server_side_encryption_configuration", f"{prefix}/encryption")
    assert encryption["rule"][0]["apply_server_side_encryption_by_default"] == {"sse_algorithm": "AES256"}
    tls = policy_statements(stack, f"{prefix}/policy-document")["DenyInsecureTransport"]
    assert tls["effect"] == "Deny"
    assert tls["actions"] == ["s3:*"]
    assert tls["condition"] == [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}]
    policy = resource(stack, "aws_s3_bucket_policy", f"{prefix}/policy")
    assert policy["policy"].startswith("${data.aws_iam_policy_document.")


@pytest.mark.slow  # a second synth, through the cdktf CLI: make test's
def test_cdktf_cli_synth_writes_what_make_synth_writes(synth: dict[str, Synth], tmp_path: Path) -> None:
    """`npx cdktf synth` runs the same app (cdktf.json) and writes the same stacks, byte for byte."""
    cli = run(
        ["npx", "--no-install", "cdktf", "synth", "--output", str(tmp_path)],
        cwd=ROOT,
        env=tool_env(DEPLOY_TARGET="aws"),
        timeout=600,
    )
    assert cli.returncode == 0, (cli.stdout + cli.stderr)[-5000:]
    for stack in STACKS:
        written = sorted(p.relative_to(tmp_path) for p in (tmp_path / "stacks" / stack).rglob("*") if p.is_file())
        expected = synth["aws"].stack_dir(stack)
        assert written == sorted(
            p.relative_to(synth["aws"].outdir)
            for p in expected.rglob("*")
            if p.is_file() and ".terraform" not in p.parts
        )
        for path in written:
            assert (tmp_path / path).read_bytes() == (synth["aws"].outdir / path).read_bytes(), path
