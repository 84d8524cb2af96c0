"""``make destroy`` (``ops/destroy/``): its questions, flags, passes and report.

The table and the buckets are real (moto in-process, with its deletion
protection and its ``BucketNotEmpty`` for a bucket that still holds versions);
Terraform and the backup function are fakes that act on them as the real ones
would: the fake destroy deletes what its state holds and fails on a full
bucket or a protected table, the fake backup writes the objects it reports.
The real Terraform and the real function, run from its deployed zip, are in
``tests/local/test_deploy_local.py``'s teardown.
"""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.response import StreamingBody
from botocore.stub import Stubber
from moto import mock_aws

from config.settings import AppConfig, load_config
from lambdas.common import names
from modules.functions import catalog as functions
from ops import destroy
from ops.destroy import (
    FINAL_BACKUP_EVENT,
    BackupChoice,
    DestroyRun,
    FinalBackupError,
    Options,
    Report,
    State,
    StateResource,
    Teardown,
    TeardownError,
    buckets,
)
from tests.conftest import ROOT

TABLE = "studentData"
RUNS_TABLE = "studentBackupRuns"
BACKUPS = "student-backup-20250706"
LOGS = "student-backup-logs-20250706"
WEBSITE = "student-management-website-2025"
STATE_BUCKET = "student-management-tfstate"
FUNCTION = functions.spec(functions.BACKUP).name
FINAL_KEY = f"{names.BACKUP_PREFIX}backup-20260101-000000-final.json"


def resource(address: str, **values: Any) -> StateResource:
    return StateResource(address, address.split(".", maxsplit=1)[0], values)


#: The application stack's state, cut down to one resource of each kind the teardown treats apart,
#: in an order Terraform could destroy them in (what configures a bucket before the bucket).
DEPLOYED = (
    resource("aws_dynamodb_table.student-table", name=TABLE),
    resource("aws_s3_bucket_versioning.backups", bucket=BACKUPS),
    resource("aws_s3_bucket_policy.backups", bucket=BACKUPS),
    resource("aws_s3_bucket_logging.backups", bucket=BACKUPS, target_bucket=LOGS),
    resource("aws_s3_bucket.backups", bucket=BACKUPS),
    resource("aws_s3_bucket_policy.logs", bucket=LOGS),
    resource("aws_s3_bucket.logs", bucket=LOGS),
    resource("aws_s3_object.index", bucket=WEBSITE, key="index.html", version_id=""),
    resource("aws_s3_bucket_versioning.website", bucket=WEBSITE),
    resource("aws_s3_bucket.website", bucket=WEBSITE, force_destroy=True),
    resource("aws_lambda_function.backup", function_name=FUNCTION),
    resource("aws_dynamodb_table.runs", name=RUNS_TABLE),
    resource("aws_secretsmanager_secret.key", name="student-management/api-key", recovery_window_in_days=7),
)
#: Emptied with its bucket rather than destroyed by Terraform.
OBJECTS = {"aws_s3_object.index"}
KEPT_WITH_BACKUPS = {
    "aws_dynamodb_table.student-table",
    "aws_s3_bucket.backups",
    "aws_s3_bucket_versioning.backups",
    "aws_s3_bucket_policy.backups",
    "aws_s3_bucket_logging.backups",
    "aws_s3_bucket.logs",
    "aws_s3_bucket_policy.logs",
}


@dataclass
class World:
    """moto's S3 and DynamoDB, holding what a deployment holds."""

    s3: Any
    dynamodb: Any

    def buckets(self) -> set[str]:
        return {bucket["Name"] for bucket in self.s3.list_buckets()["Buckets"]}

    def tables(self) -> set[str]:
        return set(self.dynamodb.list_tables()["TableNames"])


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        # The page is uploaded before the website bucket's versioning is on, as a deploy can do
        # (nothing orders the two): its version id is "null" and Terraform records none.
        s3.create_bucket(Bucket=WEBSITE)
        s3.put_object(Bucket=WEBSITE, Key="index.html", Body=b"<!doctype html>")
        for bucket in (BACKUPS, LOGS, WEBSITE, STATE_BUCKET):
            if bucket != WEBSITE:
                s3.create_bucket(Bucket=bucket)
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        for key in ("backup-1.json", "backup-1.csv", "backup-1.csv"):  # the CSV twice: a noncurrent version
            s3.put_object(Bucket=BACKUPS, Key=f"{names.BACKUP_PREFIX}{key}", Body=b"[]")
        s3.put_object(Bucket=LOGS, Key="student-backup/2026-01-01-00-00-00-LOG", Body=b"log")
        for table, protected in ((TABLE, True), (RUNS_TABLE, False)):
            dynamodb.create_table(
                TableName=table,
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
                DeletionProtectionEnabled=protected,
            )
        for studentid in ("SV001", "SV002"):
            dynamodb.put_item(TableName=TABLE, Item={"id": {"S": studentid}})
        yield World(s3, dynamodb)


@dataclass
class FakeTerraform:
    """Destroys what its state holds in moto, as Terraform would, and fails where Terraform would.

    An object without a version id is deleted with a plain DeleteObject (a delete marker in a
    versioned bucket); a versioning resource, destroyed, suspends versioning; a ``force_destroy``
    bucket is emptied of every version before it is deleted.
    """

    world: World
    resources: list[StateResource] = field(default_factory=lambda: list(DEPLOYED))
    #: Passes during which an access log arrives in the log bucket before the buckets are deleted.
    late_logs: int = 0
    #: Output of a destroy that fails for a reason of its own.
    failure: str | None = None
    released: list[str] = field(default_factory=list)
    passes: int = 0

    def state(self) -> State:
        return State(tuple(self.resources), {})

    def release(self, addresses: Sequence[str]) -> None:
        self.released += addresses
        self.resources = [r for r in self.resources if r.address not in addresses]

    def destroy(self) -> DestroyRun:
        self.passes += 1
        if self.failure is not None:
            return DestroyRun(False, self.failure, "destroy.log")
        if self.passes <= self.late_logs and any(r.values.get("bucket") == LOGS for r in self.resources):
            self.world.s3.put_object(Bucket=LOGS, Key=f"student-backup/late-{self.passes}", Body=b"log")
        for item in list(self.resources):
            problem = self._delete(item)
            if problem:
                return DestroyRun(False, f"Destroying...\nError: {problem}\n", "destroy.log")
            self.resources.remove(item)
        return DestroyRun(True, "Destroy complete! Resources: destroyed.", "destroy.log")

    def _delete(self, item: StateResource) -> str | None:
        try:
            if item.type == "aws_s3_object":
                self.world.s3.delete_object(Bucket=item.values["bucket"], Key=item.values["key"])
            elif item.type == "aws_s3_bucket_versioning":
                status = {"Status": "Suspended"}
                self.world.s3.put_bucket_versioning(Bucket=item.values["bucket"], VersioningConfiguration=status)
            elif item.type == "aws_s3_bucket":
                if item.values.get("force_destroy"):
                    destroy.empty_bucket(self.world.s3, item.values["bucket"], lambda _line: None)
                self.world.s3.delete_bucket(Bucket=item.values["bucket"])
            elif item.type == "aws_dynamodb_table":
                self.world.dynamodb.delete_table(TableName=item.values["name"])
        except ClientError as error:
            return f"deleting {item.address}: {error}"
        except AttributeError as error:  # moto's own failure: the emulator answers 500
            return f"deleting {item.address}: InternalError (500): {error}"
        return None


@dataclass
class FakeBackup:
    """The deployed backup function: writes the object it reports, unless told to fail or to lie."""

    world: World
    is_deployed: bool = True
    fails_with: str | None = None
    writes: bool = True
    calls: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)

    def deployed(self, name: str) -> bool:
        return self.is_deployed

    def invoke(self, name: str, event: Mapping[str, Any]) -> Any:
        self.calls.append((name, dict(event)))
        if self.fails_with is not None:
            raise FinalBackupError(self.fails_with)
        if self.writes:
            self.world.s3.put_object(Bucket=BACKUPS, Key=FINAL_KEY, Body=b'[{"id": "SV001"}, {"id": "SV002"}]')
        return {"items": 2, "objects": [{"key": FINAL_KEY, "bytes": 34, "sha256": "..."}], "emailSent": True}


@dataclass
class Answers:
    """Answers the questions in order (None: the end of input); asking more than that fails the test."""

    answers: list[str | None] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)

    def __call__(self, question: str) -> str | None:
        self.questions.append(question)
        assert self.answers, f"asked more than expected: {question}"
        return self.answers.pop(0)


@dataclass
class Run:
    world: World
    terraform: FakeTerraform
    backup: FakeBackup
    answers: Answers
    progress: list[str]
    teardown: Teardown


@pytest.fixture
def config() -> AppConfig:
    return load_config(environ={}, config_file=ROOT / "config.toml")


def teardown_of(
    world: World,
    config: AppConfig,
    stack_dir: Path,
    *,
    answers: Sequence[str | None] = (),
    terraform: FakeTerraform | None = None,
    backup: FakeBackup | None = None,
) -> Run:
    (stack_dir / "cdk.tf.json").write_text(
        json.dumps({"resource": {"aws_dynamodb_table": {"student-table": {"name": TABLE}}}}), encoding="utf-8"
    )
    terraform = terraform or FakeTerraform(world)
    backup = backup or FakeBackup(world)
    asked, progress = Answers(list(answers)), []
    teardown = Teardown(
        config, "the test account", stack_dir, world.s3, world.dynamodb, terraform, backup, asked, progress.append
    )
    return Run(world, terraform, backup, asked, progress, teardown)


KEEP_QUIETLY = Options(backups=BackupChoice.KEEP, assume_yes=True)


def test_keeping_the_backups_releases_the_table_and_both_buckets_with_their_settings(
    world: World, config: AppConfig, tmp_path: Path
) -> None:
    run = teardown_of(world, config, tmp_path)
    report = run.teardown.run(KEEP_QUIETLY)
    assert run.answers.questions == []
    assert run.backup.calls == [(FUNCTION, FINAL_BACKUP_EVENT)]
    assert set(run.terraform.released) == KEPT_WITH_BACKUPS | OBJECTS
    assert run.terraform.passes == 1 and run.terraform.resources == []
    assert world.buckets() == {BACKUPS, LOGS, STATE_BUCKET}
    assert world.tables() == {TABLE}
    table = world.dynamodb.describe_table(TableName=TABLE)["Table"]
    assert (table["ItemCount"], table["DeletionProtectionEnabled"]) == (2, True)
    text = flat(report)
    assert text.startswith("==> make destroy: done in the test account")
    assert f"table {TABLE}: ACTIVE, 2 items at the final backup, deletion protection on" in text
    command = f"    terraform -chdir={tmp_path} import aws_dynamodb_table.student-table {TABLE}"
    assert command in report.render().splitlines()
    assert f"bucket {BACKUPS}: 3 backup objects; the final backup: {FINAL_KEY} (34 bytes)" in text
    assert f"bucket {LOGS}: 1 access log object" in text
    assert "5 resources destroyed by Terraform" in text
    assert "student-management/api-key is scheduled for deletion and kept 7 days" in text


def test_the_backup_question_names_the_bucket_and_its_backup_objects_and_yes_deletes_them(
    world: World, config: AppConfig, tmp_path: Path
) -> None:
    """A late access log refills the log bucket during the first pass: emptied again, a second pass ends it."""
    run = teardown_of(world, config, tmp_path, answers=["y", "yes"], terraform=FakeTerraform(world, late_logs=1))
    report = run.teardown.run(Options())
    question = run.answers.questions[0]
    assert f"Bucket {BACKUPS} holds 2 backup objects (3 object versions in all)" in question
    assert f"its access logs are in {LOGS}, 1 object" in question
    assert question.endswith("[y/N] ")
    assert run.backup.calls == [], "a final backup deleted with the backups is not written"
    assert run.terraform.passes == 2
    assert set(run.terraform.released) == {"aws_dynamodb_table.student-table"} | OBJECTS
    assert world.buckets() == {STATE_BUCKET}
    assert world.tables() == {TABLE}
    text = flat(report)
    assert f"bucket {BACKUPS} with 2 backup objects (3 versions)" in text
    assert "No final backup was written (it would be deleted with the backups)" in text
    assert any("emptying it once more" in line for line in run.progress)


def test_without_answers_the_backups_stay_and_nothing_goes_on(world: World, config: AppConfig, tmp_path: Path) -> None:
    """End of input (a script that forgot its flags): the backups default to kept, and the teardown is refused."""
    run = teardown_of(world, config, tmp_path, answers=[None, None])
    with pytest.raises(TeardownError, match=r"not confirmed \(no answer: in a script, YES=1 \(--yes\)\)"):
        run.teardown.run(Options())
    assert "keeping the backups (no answer)" in "\n".join(run.progress)
    assert (run.backup.calls, run.terraform.released, run.terraform.passes) == ([], [], 0)


@pytest.mark.parametrize("answer", ["n", "", "no", "nope"])
def test_anything_but_y_keeps_the_backups(world: World, config: AppConfig, tmp_path: Path, answer: str) -> None:
    run = teardown_of(world, config, tmp_path, answers=[answer, "yes"])
    run.teardown.run(Options())
    assert set(run.terraform.released) == KEPT_WITH_BACKUPS | OBJECTS
    assert BACKUPS in world.buckets()


def test_only_yes_goes_on(world: World, config: AppConfig, tmp_path: Path) -> None:
    run = teardown_of(world, config, tmp_path, answers=["y"])
    with pytest.raises(TeardownError, match="not confirmed: nothing was changed"):
        run.teardown.run(Options(backups=BackupChoice.KEEP))
    assert run.answers.questions == ["Go on with the teardown above? Only 'yes' goes on: "]
    assert (run.backup.calls, run.terraform.released, run.terraform.passes) == ([], [], 0)


@pytest.mark.parametrize("backup_kind", ["fails", "writes nothing"])
def test_a_failed_final_backup_changes_nothing(
    world: World, config: AppConfig, tmp_path: Path, backup_kind: str
) -> None:
    backup = FakeBackup(world, fails_with="Sandbox.Timedout: Task timed out after 900.00 seconds")
    if backup_kind == "writes nothing":
        backup = FakeBackup(world, writes=False)
    run = teardown_of(world, config, tmp_path, backup=backup)
    expected = "Timedout" if backup_kind == "fails" else f"names s3://{BACKUPS}/{FINAL_KEY}, which cannot be read"
    with pytest.raises(FinalBackupError, match=expected) as failure:
        run.teardown.run(KEEP_QUIETLY)
    assert "nothing was changed" in str(failure.value)
    assert "SKIP_FINAL_BACKUP=1" in str(failure.value)
    assert (run.terraform.released, run.terraform.passes) == ([], 0)
    assert world.buckets() == {BACKUPS, LOGS, WEBSITE, STATE_BUCKET}


def test_skipping_the_final_backup_invokes_nothing(world: World, config: AppConfig, tmp_path: Path) -> None:
    run = teardown_of(world, config, tmp_path, backup=FakeBackup(world, fails_with="must not run"))
    report = run.teardown.run(Options(backups=BackupChoice.KEEP, final_backup=False, assume_yes=True))
    assert run.backup.calls == []
    assert "No final backup was written (SKIP_FINAL_BACKUP=1 (--skip-final-backup))" in flat(report)


def test_deleting_the_table_needs_its_name_typed(world: World, config: AppConfig, tmp_path: Path) -> None:
    refused = teardown_of(world, config, tmp_path, answers=["studentdata"])
    with pytest.raises(TeardownError, match=f"table {TABLE} not confirmed: nothing was changed"):
        refused.teardown.run(Options(backups=BackupChoice.KEEP, delete_table=True))
    assert f"Delete table {TABLE} (about 2 items) for good?" in refused.answers.questions[0]
    assert TABLE in world.tables()

    run = teardown_of(world, config, tmp_path, answers=[TABLE, "yes"])
    report = run.teardown.run(Options(backups=BackupChoice.KEEP, delete_table=True))
    assert world.tables() == set()
    assert run.backup.calls, "the final backup comes first"
    text = flat(report)
    assert f"table {TABLE}, deleted after its deletion protection was turned off" in text
    assert "35 days" in text


def test_deleting_the_table_without_a_function_to_back_it_up_needs_the_skip_flag(
    world: World, config: AppConfig, tmp_path: Path
) -> None:
    gone = FakeBackup(world, is_deployed=False)
    run = teardown_of(world, config, tmp_path, backup=gone)
    with pytest.raises(TeardownError, match=r"no final backup can be written .* SKIP_FINAL_BACKUP=1"):
        run.teardown.run(Options(backups=BackupChoice.KEEP, delete_table=True, assume_yes=True))
    assert TABLE in world.tables() and run.terraform.released == []

    run = teardown_of(world, config, tmp_path, backup=gone)
    run.teardown.run(Options(backups=BackupChoice.KEEP, delete_table=True, final_backup=False, assume_yes=True))
    assert world.tables() == set()


def test_a_deployment_already_removed_says_so_names_what_was_kept_and_asks_nothing(
    world: World, config: AppConfig, tmp_path: Path
) -> None:
    run = teardown_of(world, config, tmp_path, terraform=FakeTerraform(world, resources=[]))
    report = run.teardown.run(Options())
    assert report.already_removed and run.answers.questions == [] and run.backup.calls == []
    text = flat(report)
    assert text.startswith("==> make destroy: nothing to destroy in the test account")
    assert f"table {TABLE}: ACTIVE, about 2 items, not in the Terraform state (to delete it: DELETE_TABLE=1" in text
    assert f"bucket {BACKUPS}: 2 backup objects, not in the Terraform state (to delete it: BACKUPS=delete" in text
    assert world.buckets() == {BACKUPS, LOGS, WEBSITE, STATE_BUCKET}


def test_what_an_earlier_teardown_kept_is_deleted_only_when_a_flag_says_so(
    world: World, config: AppConfig, tmp_path: Path
) -> None:
    run = teardown_of(world, config, tmp_path, terraform=FakeTerraform(world, resources=[]))
    everything = Options(backups=BackupChoice.DELETE, delete_table=True, final_backup=False, assume_yes=True)
    report = run.teardown.run(everything)
    assert world.buckets() == {WEBSITE, STATE_BUCKET}
    assert world.tables() == {RUNS_TABLE}
    assert run.terraform.passes == 0
    assert f"bucket {LOGS} with 1 access log object" in flat(report)


def test_a_bucket_that_keeps_filling_stops_the_teardown_after_the_last_pass(
    world: World, config: AppConfig, tmp_path: Path
) -> None:
    run = teardown_of(world, config, tmp_path, terraform=FakeTerraform(world, late_logs=99))
    with pytest.raises(TeardownError, match="still finds a bucket not empty after 3 passes") as failure:
        run.teardown.run(Options(backups=BackupChoice.DELETE, assume_yes=True))
    assert "BucketNotEmpty" in str(failure.value)
    assert run.terraform.passes == destroy.DESTROY_PASSES


def test_any_other_destroy_failure_stops_with_terraform_s_error_and_its_log(
    world: World, config: AppConfig, tmp_path: Path
) -> None:
    failure = "aws_lambda_function.backup: Destroying...\nError: deleting Lambda Function (x): AccessDeniedException\n"
    run = teardown_of(world, config, tmp_path, terraform=FakeTerraform(world, failure=failure))
    with pytest.raises(TeardownError, match=r"(?s)log: destroy.log.*Error: deleting Lambda Function") as error:
        run.teardown.run(KEEP_QUIETLY)
    assert "Destroying..." not in str(error.value)
    assert run.terraform.passes == 1
    done = f"Done before it stopped: the final backup ({FINAL_KEY} (34 bytes)); 8 resources released from the"
    assert done in str(error.value) and "Rerun make destroy to go on." in str(error.value)


def test_a_table_left_in_the_state_would_stop_terraform(world: World, config: AppConfig, tmp_path: Path) -> None:
    """The fake refuses what AWS refuses: proof that the release of the table is what lets the destroy finish."""
    terraform = FakeTerraform(world)
    assert terraform.destroy().succeeded is False
    assert "DeletionProtectionEnabled" in terraform.destroy().output


def test_objects_terraform_uploaded_go_with_their_emptied_bucket_not_one_by_one(
    world: World, config: AppConfig, tmp_path: Path
) -> None:
    """Left to Terraform, the same bucket fails in the emulator: its DeleteObject puts a delete marker over
    the object's "null" version, destroying the versioning resource suspends versioning, and moto 5.2
    cannot delete a key holding a marker in a suspended bucket (a 500 the provider retries for an hour)."""
    run = teardown_of(world, config, tmp_path)
    report = run.teardown.run(KEEP_QUIETLY)
    assert WEBSITE not in world.buckets()
    assert "1 object uploaded by Terraform, deleted with every version when their buckets were emptied" in flat(report)

    world.s3.create_bucket(Bucket=WEBSITE)
    world.s3.put_object(Bucket=WEBSITE, Key="index.html", Body=b"<!doctype html>")
    world.s3.put_bucket_versioning(Bucket=WEBSITE, VersioningConfiguration={"Status": "Enabled"})
    website = [r for r in DEPLOYED if r.values.get("bucket") == WEBSITE]
    one_by_one = FakeTerraform(world, resources=website).destroy()
    assert not one_by_one.succeeded and "InternalError" in one_by_one.output


def test_emptying_a_bucket_deletes_every_version_and_delete_marker_in_batches(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(buckets, "DELETE_BATCH", 2)
    world.s3.delete_object(Bucket=BACKUPS, Key=f"{names.BACKUP_PREFIX}backup-1.json")  # a delete marker
    before = destroy.bucket_contents(world.s3, BACKUPS)
    assert before == destroy.BucketContents(BACKUPS, current=1, versions=4, backups=1)
    progress: list[str] = []
    assert destroy.empty_bucket(world.s3, BACKUPS, progress.append) == 4
    assert len(progress) == 2
    assert destroy.bucket_contents(world.s3, BACKUPS) == destroy.BucketContents(BACKUPS, 0, 0, 0)
    world.s3.delete_bucket(Bucket=BACKUPS)
    assert destroy.bucket_contents(world.s3, BACKUPS) is None


def test_the_count_sees_versions_that_deleting_only_current_objects_leaves(world: World) -> None:
    """Mutation: emptying by key (no version ids) only adds delete markers; the count, like S3, still sees them."""
    for item in world.s3.list_objects_v2(Bucket=BACKUPS)["Contents"]:
        world.s3.delete_object(Bucket=BACKUPS, Key=item["Key"])
    contents = destroy.bucket_contents(world.s3, BACKUPS)
    assert contents is not None and (contents.current, contents.versions) == (0, 5)
    with pytest.raises(ClientError, match="BucketNotEmpty"):
        world.s3.delete_bucket(Bucket=BACKUPS)


def test_deleting_a_table_turns_its_deletion_protection_off_first(world: World) -> None:
    with pytest.raises(ClientError, match="DeletionProtectionEnabled"):
        world.dynamodb.delete_table(TableName=TABLE)
    destroy.delete_table(world.dynamodb, TABLE)
    assert destroy.table_info(world.dynamodb, TABLE) is None


def test_state_holds_the_managed_resources_of_every_module_and_the_outputs() -> None:
    document = {
        "values": {
            "outputs": {names.OUTPUT_TABLE_NAME: {"sensitive": False, "value": "renamedTable"}},
            "root_module": {
                "resources": [
                    {
                        "address": "aws_s3_bucket.b",
                        "mode": "managed",
                        "type": "aws_s3_bucket",
                        "values": {"bucket": "b"},
                    },
                    {"address": "data.aws_iam_policy_document.p", "mode": "data", "type": "aws_iam_policy_document"},
                ],
                "child_modules": [
                    {
                        "resources": [
                            {
                                "address": "module.m.aws_dynamodb_table.t",
                                "mode": "managed",
                                "type": "aws_dynamodb_table",
                                "values": {"name": "renamedTable"},
                            }
                        ]
                    }
                ],
            },
        }
    }
    state = State.parse(document)
    assert [r.address for r in state.resources] == ["aws_s3_bucket.b", "module.m.aws_dynamodb_table.t"]
    assert state.table("renamedTable") is not None and state.bucket("b") is not None
    assert State.parse({"format_version": "1.0"}) == State((), {})
    named = destroy.Names.of(load_config(environ={}, config_file=ROOT / "config.toml"), state)
    assert (named.table, named.backup_bucket) == ("renamedTable", BACKUPS)


def test_the_report_keeps_keys_whole_and_says_an_empty_state_is_already_removed() -> None:
    key = "backups/backup-20260101-000000-0123abcd-with-a-rather-long-suffix.manifest.json"
    report = Report("AWS account 123456789012, region us-east-1", kept=[f"bucket b: {'word ' * 30}{key}"])
    text = report.render()
    assert key in text.splitlines()[-1] and all(len(line) <= 110 for line in text.splitlines()[1:])
    lines = text.splitlines()
    assert lines[1] == "Kept:" and lines[2].startswith("  - ") and lines[3].startswith("    ")
    assert Report("x", already_removed=True).render().endswith("the student-management stack is already removed")


def flat(report: Report) -> str:
    """The rendered report with its line breaks and indents as single spaces: entries wrap where they must."""
    return " ".join(report.render().split())


def _payload(document: object) -> StreamingBody:
    data = json.dumps(document).encode()
    return StreamingBody(io.BytesIO(data), len(data))


def test_the_aws_invoke_runs_the_backup_inline_once_and_reads_its_summary_or_its_error() -> None:
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    invoker = destroy.LambdaInvoker(client)
    summary = {"items": 2, "objects": [{"key": FINAL_KEY, "bytes": 34}], "emailSent": True}
    request = {"FunctionName": FUNCTION, "InvocationType": "RequestResponse", "Payload": b'{"source": "make-destroy"}'}
    with Stubber(client) as stub:
        stub.add_response("invoke", {"StatusCode": 200, "Payload": _payload(summary)}, request)
        assert invoker.invoke(FUNCTION, FINAL_BACKUP_EVENT) == summary
        error = {"errorType": "BackupError", "errorMessage": "backup of table studentData failed"}
        stub.add_response("invoke", {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": _payload(error)})
        with pytest.raises(FinalBackupError, match="BackupError: backup of table studentData failed"):
            invoker.invoke(FUNCTION, FINAL_BACKUP_EVENT)
        stub.add_client_error("invoke", "TooManyRequestsException", "Rate Exceeded.", 429)
        with pytest.raises(FinalBackupError, match=r"busy .* wait for the running backup"):
            invoker.invoke(FUNCTION, FINAL_BACKUP_EVENT)
        stub.add_client_error("get_function_configuration", "ResourceNotFoundException", "not found", 404)
        assert invoker.deployed(FUNCTION) is False
    config = destroy.LambdaInvoker.for_region("us-east-1")._client.meta.config
    assert config.read_timeout >= destroy.LAMBDA_MAX_TIMEOUT_SECONDS
    assert config.retries["total_max_attempts"] == 1


def _make_destroy(*settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "-n", "destroy", *settings],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DEPLOY_TARGET": "aws", "HOME": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_make_destroy_passes_its_settings_as_flags_and_refuses_values_it_does_not_know() -> None:
    quiet = _make_destroy("BACKUPS=keep", "DELETE_TABLE=1", "SKIP_FINAL_BACKUP=1", "YES=1")
    assert quiet.returncode == 0, quiet.stderr
    assert "-m ops.destroy --outdir \"$out\" --backups 'keep'" in quiet.stdout
    assert "--delete-table" in quiet.stdout and "--skip-final-backup" in quiet.stdout and "--yes" in quiet.stdout
    plain = _make_destroy()
    assert "--yes" not in plain.stdout and "--delete-table" not in plain.stdout
    wrong = _make_destroy("DELETE_TABLE=yes")
    assert wrong.returncode != 0 and "DELETE_TABLE must be 1 or unset, not 'yes'" in wrong.stderr


def test_a_staff_pool_aws_protects_is_kept_whole_with_its_client_and_groups(
    world: World, config: AppConfig, tmp_path: Path
) -> None:
    pool_id = "us-east-1_Staff1234"
    protected = [
        resource(
            "aws_cognito_user_pool.staff", id=pool_id, name="student-management-staff", deletion_protection="ACTIVE"
        ),
        resource("aws_cognito_user_pool_client.page", id="client", user_pool_id=pool_id),
        resource("aws_cognito_user_group.staff", name="staff", user_pool_id=pool_id),
        resource("aws_cognito_user_group.admin", name="admin", user_pool_id=pool_id),
    ]
    run = teardown_of(world, config, tmp_path)
    run.terraform.resources += protected
    report = run.teardown.run(KEEP_QUIETLY)
    assert {r.address for r in protected} <= set(run.terraform.released)
    assert f"staff user pool student-management-staff ({pool_id}), with its members" in flat(report)
    assert f"delete-user-pool --user-pool-id {pool_id}" in flat(report)


def test_a_staff_pool_without_deletion_protection_goes_with_the_rest(
    world: World, config: AppConfig, tmp_path: Path
) -> None:
    local = resource(
        "aws_cognito_user_pool.staff", id="local-pool", name="student-management-staff", deletion_protection="INACTIVE"
    )
    run = teardown_of(world, config, tmp_path)
    run.terraform.resources.append(local)
    run.teardown.run(KEEP_QUIETLY)
    assert local.address not in run.terraform.released
    assert run.terraform.resources == []
