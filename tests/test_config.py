"""The configuration object: tutorial defaults, sources, and errors that name the field."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest

from modules.config import AppConfig, ConfigError, DeployTarget, load_config
from tests.conftest import ROOT, tool_env


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
    assert config.deploy_target is DeployTarget.AWS


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
        ("STUDENT_MGMT_EMULATOR_PORT", "80", "emulator_port"),
        ("STUDENT_MGMT_EMULATOR_PORT", "four", "emulator_port"),
        ("STUDENT_MGMT_ACCESS_LOG_RETENTION_DAYS", "0", "access_log_retention_days"),
        ("STUDENT_MGMT_STATE_KEY", "/abs/state", "state_key"),
        ("STUDENT_MGMT_TAGS", "aws:reserved=1", "tags"),
        ("STUDENT_MGMT_TAGS", "no-equals-sign", "tags"),
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


def test_synth_fails_naming_the_field_of_a_bad_value() -> None:
    run = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "main.py"],
        cwd=ROOT,
        env=tool_env(DEPLOY_TARGET="local", STUDENT_MGMT_SENDER_EMAIL="no-at-sign", CDKTF_OUTDIR="/nonexistent"),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert run.returncode == 2
    assert "invalid configuration field 'sender_email'" in run.stderr
    assert "STUDENT_MGMT_SENDER_EMAIL" in run.stderr
    assert "Traceback" not in run.stderr


def test_readme_documents_every_configuration_field() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for field in dataclasses.fields(AppConfig):
        assert f"| `{field.name}` |" in readme, f"README's configuration table lacks {field.name}"
