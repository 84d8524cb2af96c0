"""The configuration object: tutorial defaults, sources, and errors that name the field."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest

from config.settings import AppConfig, ConfigError, DeployTarget, load_config
from tests.conftest import ROOT, tool_env

CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"


def test_defaults_are_the_tutorial_names() -> None:
    config = AppConfig()
    assert config.deploy_target is DeployTarget.AWS
    assert config.region == "us-east-1"
    assert config.table_name == "studentData"
    assert config.backup_bucket == "student-backup-20250706"
    assert config.backup_log_bucket == "student-backup-logs-20250706"
    assert dict(config.tags) == {"Project": "StudentManagement", "Environment": "Production"}


def test_checked_in_config_file_loads_and_is_valid() -> None:
    config = load_config(environ={})
    assert config.environment == "local"
    assert config.deploy_target is DeployTarget.LOCAL


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_text('name_suffix = "fromfile"\nsender_email = "file@example.org"\n')
    config = load_config(
        environ={"STUDENT_MGMT_NAME_SUFFIX": "fromenv", "DEPLOY_TARGET": "local"}, config_file=config_file
    )
    assert config.name_suffix == "fromenv"
    assert config.sender_email == "file@example.org"
    assert config.deploy_target is DeployTarget.LOCAL


def test_name_suffix_is_appended_to_every_bucket() -> None:
    config = AppConfig(name_suffix="abc123")
    assert config.backup_bucket == "student-backup-20250706-abc123"
    assert config.backup_log_bucket == "student-backup-logs-20250706-abc123"
    assert config.state_bucket == "student-management-tfstate-abc123"


def test_recipients_and_tags_parse_from_the_environment() -> None:
    config = load_config(
        environ={
            "STUDENT_MGMT_RECIPIENT_EMAILS": "a@example.org, b@example.org",
            "STUDENT_MGMT_TAGS": "Project=StudentManagement,Environment=Test",
        },
        config_file=ROOT / "config.toml",
    )
    assert config.recipient_emails == ("a@example.org", "b@example.org")
    assert dict(config.tags) == {"Project": "StudentManagement", "Environment": "Test"}


def test_config_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        AppConfig().region = "eu-west-1"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("variable", "value", "field"),
    [
        ("DEPLOY_TARGET", "staging", "deploy_target"),
        ("STUDENT_MGMT_SENDER_EMAIL", "not-an-email", "sender_email"),
        ("STUDENT_MGMT_RECIPIENT_EMAILS", "ok@example.org,broken@", "recipient_emails"),
        ("STUDENT_MGMT_RECIPIENT_EMAILS", " , ", "recipient_emails"),
        ("STUDENT_MGMT_NAME_SUFFIX", "Upper_Case", "name_suffix"),
        ("STUDENT_MGMT_BACKUP_BUCKET_NAME", "Student_Backup", "backup_bucket_name"),
        ("STUDENT_MGMT_BACKUP_BUCKET_NAME", "192.168.1.1", "backup_bucket_name"),
        ("STUDENT_MGMT_BACKUP_LOG_BUCKET_NAME", "student-backup-20250706", "backup_log_bucket_name"),
        ("STUDENT_MGMT_STATE_BUCKET_NAME", "x", "state_bucket_name"),
        ("STUDENT_MGMT_REGION", "mars-1", "region"),
        ("STUDENT_MGMT_TABLE_NAME", "a", "table_name"),
        ("STUDENT_MGMT_BACKUP_RUNS_TABLE_NAME", "runs table", "backup_runs_table_name"),
        ("STUDENT_MGMT_BACKUP_RUNS_TABLE_NAME", "studentData", "backup_runs_table_name"),
        ("STUDENT_MGMT_EMULATOR_PORT", "80", "emulator_port"),
        ("STUDENT_MGMT_EMULATOR_PORT", "four", "emulator_port"),
        ("STUDENT_MGMT_ACCESS_LOG_RETENTION_DAYS", "0", "access_log_retention_days"),
        ("STUDENT_MGMT_BACKUP_RETENTION_DAYS", "0", "backup_retention_days"),
        ("STUDENT_MGMT_BACKUP_RETENTION_DAYS", "36501", "backup_retention_days"),
        ("STUDENT_MGMT_BACKUP_RETENTION_DAYS", "five weeks", "backup_retention_days"),
        ("STUDENT_MGMT_STATE_KEY", "/abs/state", "state_key"),
        ("STUDENT_MGMT_TAGS", "aws:reserved=1", "tags"),
        ("STUDENT_MGMT_TAGS", "no-equals-sign", "tags"),
        ("STUDENT_MGMT_WEBSITE_BUCKET_NAME", "student-backup-20250706", "backup_log_bucket_name"),
        ("STUDENT_MGMT_WEBSITE_BUCKET_NAME", "Website!", "website_bucket_name"),
        ("STUDENT_MGMT_ALLOWED_ORIGIN", "*", "allowed_origin"),
        ("STUDENT_MGMT_SITE_PRICE_CLASS", "PriceClass_Cheap", "site_price_class"),
        ("STUDENT_MGMT_SITE_DOMAIN_NAME", "students.example.org", "site_certificate_arn"),
        ("STUDENT_MGMT_SITE_DOMAIN_NAME", "not a domain", "site_domain_name"),
        (
            "STUDENT_MGMT_SITE_CERTIFICATE_ARN",
            "arn:aws:acm:eu-west-1:123456789012:certificate/x",
            "site_certificate_arn",
        ),
        ("STUDENT_MGMT_SITE_WAF_RATE_LIMIT", "5", "site_waf_rate_limit"),
        ("STUDENT_MGMT_SITE_PORT", "80", "site_port"),
        ("STUDENT_MGMT_STAFF_USER_POOL_NAME", "staff/pool", "staff_user_pool_name"),
        ("STUDENT_MGMT_STAFF_MFA", "sometimes", "staff_mfa"),
        ("STUDENT_MGMT_STAFF_TOKEN_VALIDITY_MINUTES", "4", "staff_token_validity_minutes"),
        ("STUDENT_MGMT_STAFF_TOKEN_VALIDITY_MINUTES", "1441", "staff_token_validity_minutes"),
        ("STUDENT_MGMT_STAFF_TOKEN_VALIDITY_MINUTES", "15m", "staff_token_validity_minutes"),
        ("STUDENT_MGMT_STAFF_REFRESH_TOKEN_VALIDITY_HOURS", "0", "staff_refresh_token_validity_hours"),
        ("STUDENT_MGMT_STAFF_REFRESH_TOKEN_VALIDITY_HOURS", "87601", "staff_refresh_token_validity_hours"),
        ("STUDENT_MGMT_BACKUP_RUNS_TABLE_NAME", "studentData", "backup_runs_table_name"),
    ],
)
def test_invalid_value_is_rejected_naming_the_field(variable: str, value: str, field: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(environ={variable: value}, config_file=ROOT / "config.toml")
    message = str(error.value)
    assert f"'{field}'" in message
    assert "Fix:" in message


def test_unknown_key_in_config_file_is_rejected(tmp_path: Path) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_text('sender_emial = "typo@example.org"\n')
    with pytest.raises(ConfigError, match="unknown field 'sender_emial'"):
        load_config(environ={}, config_file=config_file)


def test_missing_config_file_named_by_the_environment_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(environ={"STUDENT_MGMT_CONFIG": str(tmp_path / "absent.toml")})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sender_email", "no-at-sign"),
        ("staff_token_validity_minutes", "2"),
        ("staff_refresh_token_validity_hours", "-1"),
    ],
)
def test_synth_fails_naming_the_field_of_a_bad_value(field: str, value: str) -> None:
    variable = f"STUDENT_MGMT_{field.upper()}"
    run = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "main.py"],
        cwd=ROOT,
        env=tool_env(DEPLOY_TARGET="local", CDKTF_OUTDIR="/nonexistent", **{variable: value}),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert run.returncode == 2
    assert f"invalid configuration field '{field}'" in run.stderr
    assert variable in run.stderr
    assert "Traceback" not in run.stderr


def test_backups_are_kept_35_days_unless_configured(tmp_path: Path) -> None:
    assert AppConfig().backup_retention_days == 35
    config_file = tmp_path / "config.toml"
    config_file.write_text("backup_retention_days = 400\n")
    assert load_config(environ={}, config_file=config_file).backup_retention_days == 400
    assert load_config(environ={"STUDENT_MGMT_BACKUP_RETENTION_DAYS": "7"}).backup_retention_days == 7


def test_synth_fails_naming_a_bad_backup_retention() -> None:
    run = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "main.py"],
        cwd=ROOT,
        env=tool_env(STUDENT_MGMT_BACKUP_RETENTION_DAYS="-1", CDKTF_OUTDIR="/nonexistent"),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert run.returncode == 2
    assert "invalid configuration field 'backup_retention_days'" in run.stderr
    assert "STUDENT_MGMT_BACKUP_RETENTION_DAYS" in run.stderr
    assert "Fix: use a whole number from 1 to 36500" in run.stderr
    assert "Traceback" not in run.stderr


def test_docs_document_every_configuration_field() -> None:
    page = (ROOT / "docs" / "CONFIGURATION.md").read_text(encoding="utf-8")
    for field in dataclasses.fields(AppConfig):
        assert f"| `{field.name}` |" in page, f"docs/CONFIGURATION.md's table of fields lacks {field.name}"


@pytest.mark.parametrize(
    ("environ", "problem"),
    [
        ({"DEPLOY_TARGET": "local", "STUDENT_MGMT_SITE_WAF": "true"}, "the emulator has no CloudFront web ACLs"),
        (
            {"ENV": "production", "STUDENT_MGMT_SITE_WAF": "true", "STUDENT_MGMT_REGION": "eu-west-1"},
            "only in us-east-1",
        ),
        ({"DEPLOY_TARGET": "local", "STUDENT_MGMT_SITE_ACCESS_LOGS": "true"}, "no CloudFront log deliveries"),
        (
            {"ENV": "staging", "STUDENT_MGMT_SITE_ACCESS_LOGS": "yes", "STUDENT_MGMT_REGION": "ap-southeast-1"},
            "only in us-east-1",
        ),
        ({"STUDENT_MGMT_SITE_CERTIFICATE_ARN": CERTIFICATE}, "other half of the custom domain"),
    ],
    ids=[
        "waf locally",
        "waf outside us-east-1",
        "logs locally",
        "logs outside us-east-1",
        "certificate without domain",
    ],
)
def test_site_settings_that_cannot_work_together_are_refused(environ: dict[str, str], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        load_config(environ=environ, config_file=ROOT / "config.toml")


@pytest.mark.parametrize(
    ("environ", "origin"),
    [
        ({"ENV": "production"}, None),
        ({}, "http://localhost:8000"),
        ({"DEPLOY_TARGET": "local", "STUDENT_MGMT_SITE_PORT": "8080"}, "http://localhost:8080"),
        (
            {
                "ENV": "production",
                "STUDENT_MGMT_SITE_DOMAIN_NAME": "students.example.org",
                "STUDENT_MGMT_SITE_CERTIFICATE_ARN": CERTIFICATE,
            },
            "https://students.example.org",
        ),
        ({"STUDENT_MGMT_ALLOWED_ORIGIN": "https://staff.example.org"}, "https://staff.example.org"),
    ],
    ids=[
        "aws: the distribution decides",
        "local site (no ENV: local)",
        "local site port",
        "custom domain",
        "configured",
    ],
)
def test_allowed_origin_follows_the_site_unless_configured(environ: dict[str, str], origin: str | None) -> None:
    assert load_config(environ=environ, config_file=ROOT / "config.toml").fixed_site_origin == origin


@pytest.mark.parametrize(
    ("environ", "mfa", "endpoint"),
    [
        ({"ENV": "production"}, True, "https://cognito-idp.us-east-1.amazonaws.com/"),
        (
            {"ENV": "staging", "STUDENT_MGMT_REGION": "ap-southeast-1"},
            True,
            "https://cognito-idp.ap-southeast-1.amazonaws.com/",
        ),
        (
            {"DEPLOY_TARGET": "aws", "STUDENT_MGMT_STAFF_MFA": "false"},
            False,
            "https://cognito-idp.us-east-1.amazonaws.com/",
        ),
        ({}, False, "/_cognito/"),
        ({"DEPLOY_TARGET": "local", "STUDENT_MGMT_STAFF_MFA": "true"}, True, "/_cognito/"),
    ],
    ids=["aws", "aws elsewhere", "aws without mfa", "local", "local with mfa"],
)
def test_staff_sign_in_follows_the_target_unless_configured(environ: dict[str, str], mfa: bool, endpoint: str) -> None:
    config = load_config(environ=environ, config_file=ROOT / "config.toml")
    assert config.staff_mfa_enabled is mfa
    assert config.staff_sign_in_endpoint == endpoint


def test_staff_tokens_must_not_outlive_the_sign_in_that_renews_them() -> None:
    with pytest.raises(ConfigError, match="does not outlast the 120-minute tokens") as error:
        load_config(
            environ={
                "STUDENT_MGMT_STAFF_TOKEN_VALIDITY_MINUTES": "120",
                "STUDENT_MGMT_STAFF_REFRESH_TOKEN_VALIDITY_HOURS": "2",
            },
            config_file=ROOT / "config.toml",
        )
    assert "'staff_refresh_token_validity_hours'" in str(error.value)
    shortest = load_config(environ={"STUDENT_MGMT_STAFF_REFRESH_TOKEN_VALIDITY_HOURS": "1"})
    assert shortest.staff_refresh_token_validity_hours == 1


def test_staff_settings_read_from_the_config_file(tmp_path: Path) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_text(
        "staff_mfa = false\nstaff_token_validity_minutes = 10\nstaff_refresh_token_validity_hours = 8\n"
    )
    config = load_config(environ={}, config_file=config_file)
    assert (config.staff_mfa, config.staff_token_validity_minutes, config.staff_refresh_token_validity_hours) == (
        False,
        10,
        8,
    )
