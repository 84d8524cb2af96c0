"""The environments of the configuration (issue 23): ``ENV`` chooses one, its table changes what differs."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.loading import environment_choices
from config.settings import AppConfig, ConfigError, DeployTarget, load_config
from tests.conftest import ROOT

CHECKED_IN = ROOT / "config.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_without_env_the_environment_is_local_the_emulator() -> None:
    config = load_config(environ={}, config_file=CHECKED_IN)
    assert (config.environment, config.deploy_target) == ("local", DeployTarget.LOCAL)
    assert config.table_name == "studentData"  # the emulator is an account of its own: the tutorial's names


def test_the_aws_target_alone_is_production_as_before_environments() -> None:
    config = load_config(environ={"DEPLOY_TARGET": "aws"}, config_file=CHECKED_IN)
    assert config == load_config(environ={"ENV": "production"}, config_file=CHECKED_IN)
    assert config.state_key == "student-management/terraform.tfstate"


def test_production_keeps_every_default_of_the_tutorial() -> None:
    production = load_config(environ={"ENV": "production"}, config_file=CHECKED_IN)
    defaults = AppConfig(sender_email=production.sender_email, recipient_emails=production.recipient_emails)
    assert production == defaults


def test_staging_qualifies_every_name_and_keeps_its_state_apart() -> None:
    staging = load_config(environ={"ENV": "staging"}, config_file=CHECKED_IN)
    assert staging.deploy_target is DeployTarget.AWS
    assert staging.table_name == "studentData-staging"
    assert staging.backup_runs_table_name == "studentBackupRuns-staging"
    assert staging.backup_bucket == "student-backup-20250706-staging"
    assert staging.website_bucket == "student-management-website-2025-staging"
    assert staging.api_name == "student-staging"
    assert staging.api_key_secret_name == "student-management/api-key-staging"
    assert staging.staff_user_pool_name == "student-management-staff-staging"
    assert staging.named("getStudentData") == "getStudentData-staging"
    assert staging.state_key == "student-management/staging/terraform.tfstate"
    assert staging.state_bucket == load_config(environ={"ENV": "production"}).state_bucket  # the account's
    assert dict(staging.tags) == {"Project": "StudentManagement", "Environment": "Staging"}
    assert staging.sender_email == "noreply+staging@example.com"
    assert staging.recipient_emails == ("admin+staging@example.com",)
    assert staging.metric_namespace == "StudentManagement/staging"
    # config.toml's [environments.staging]: shorter retention than production's
    assert (staging.log_retention_days, staging.backup_retention_days) == (30, 7)


def test_an_environment_table_overrides_what_differs_and_its_own_names_stay_as_written(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'sender_email = "ops@example.org"\ntags = {Project = "Students"}\n'
        '[environments.staging]\ntable_name = "students-try"\nsender_email = "try@example.org"\nstaff_mfa = false\n'
        'tags = {Owner = "qa"}\n',
    )
    staging = load_config(environ={"ENV": "staging"}, config_file=path)
    assert staging.table_name == "students-try"
    assert staging.sender_email == "try@example.org"
    assert staging.staff_mfa_enabled is False
    assert dict(staging.tags) == {"Project": "Students", "Environment": "Staging", "Owner": "qa"}
    assert dict(staging.account_tags) == {"Project": "Students"}
    production = load_config(environ={"ENV": "production"}, config_file=path)
    assert (production.table_name, production.sender_email, production.staff_mfa_enabled) == (
        "studentData",
        "ops@example.org",
        True,
    )


def test_the_file_may_add_an_environment(tmp_path: Path) -> None:
    path = write(tmp_path, '[environments.qa]\napi_daily_quota = 50\n[environments.qa.tags]\nTeam = "test"\n')
    assert environment_choices(environ={}, config_file=path) == ["local", "production", "qa", "staging"]
    qa = load_config(environ={"ENV": "qa"}, config_file=path)
    assert (qa.name_qualifier, qa.table_name, qa.api_daily_quota) == ("qa", "studentData-qa", 50)
    assert qa.state_key == "student-management/qa/terraform.tfstate"
    assert dict(qa.tags) == {"Project": "StudentManagement", "Environment": "Qa", "Team": "test"}


def test_variables_override_the_environment(tmp_path: Path) -> None:
    config = load_config(environ={"ENV": "staging", "STUDENT_MGMT_TABLE_NAME": "x-students"}, config_file=CHECKED_IN)
    assert config.table_name == "x-students"


def test_deploy_target_local_puts_an_aws_environment_into_the_emulator() -> None:
    config = load_config(environ={"ENV": "staging", "DEPLOY_TARGET": "local"}, config_file=CHECKED_IN)
    assert (config.environment, config.is_local, config.table_name) == ("staging", True, "studentData-staging")


@pytest.mark.parametrize(
    ("environ", "text", "message"),
    [
        ({"ENV": "prod"}, "", r"'prod' is not an environment\. Fix: use one of local, production, staging"),
        ({"ENV": "staging"}, '[environments.staging]\nregion = "eu-west-1"\n', r"'region'.*is the account's"),
        ({"ENV": "staging"}, '[environments.staging]\nname_suffix = "x1"\n', r"'name_suffix'.*is the account's"),
        ({"ENV": "staging"}, '[environments.staging]\ntable_nam = "x"\n', r"unknown field 'table_nam'"),
        ({"ENV": "staging"}, '[environments.staging]\nlog_retention_days = "a"\n', r"environments\.staging.*whole"),
        ({}, "[environments.Bad_Name]\n", r"'Bad_Name'.*is not an environment name"),
        ({}, "environments = 3\n", r"must hold \[environments\.<name>\] tables"),
    ],
    ids=["unknown", "region", "suffix", "typo", "bad value", "bad name", "not a table"],
)
def test_a_bad_environment_fails_naming_the_field(
    tmp_path: Path, environ: dict[str, str], text: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(environ=environ, config_file=write(tmp_path, text))


def test_a_qualifier_from_the_environment_qualifies_every_name() -> None:
    config = load_config(environ={"ENV": "staging", "STUDENT_MGMT_NAME_QUALIFIER": "try2"}, config_file=CHECKED_IN)
    assert (config.table_name, config.named("getStudentData")) == ("studentData-try2", "getStudentData-try2")
    assert config.sender_email == "noreply+try2@example.com"


def test_the_qualifier_is_set_per_environment_never_at_the_top(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"'name_qualifier'.*is set at the top.*environments"):
        load_config(environ={}, config_file=write(tmp_path, 'name_qualifier = "x1"\n'))
