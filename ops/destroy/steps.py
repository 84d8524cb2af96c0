"""The teardown's steps in order (the package's 1 to 7), on the clients and the Terraform they are given.

One class: every step reads the same clients, the inventory taken first and
the report being written, and ``run`` is the order the package's docstring
gives. What each step uses lives in the modules beside it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from config.settings import APP_STACK, BOOTSTRAP_STACK, AppConfig
from ops.destroy.buckets import DESTROY_PASSES, bucket_contents, delete_bucket, empty_bucket
from ops.destroy.console import Ask, Say, ask_stdin, say, ticking
from ops.destroy.errors import TeardownError, error_code
from ops.destroy.final_backup import FINAL_BACKUP_EVENT, BackupInvoker, FinalBackupError
from ops.destroy.options import HINTS, BackupChoice, Options
from ops.destroy.questions import Decisions, Inventory, decide
from ops.destroy.report import Report, by_type, count, describe_objects, secret_notes
from ops.destroy.state import Names, State
from ops.destroy.table import delete_table, table_info
from ops.destroy.terraform import Terraform, error_lines

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client


@dataclass
class Teardown:
    """The steps, on the clients and the Terraform they are given (tests give fakes where no real part is needed)."""

    config: AppConfig
    where: str
    stack_dir: Path
    s3: S3Client
    dynamodb: DynamoDBClient
    terraform: Terraform
    invoker: BackupInvoker
    ask: Ask = ask_stdin
    progress: Say = say

    def inspect(self) -> Inventory:
        state = self.terraform.state()
        names_ = Names.of(self.config, state)
        return Inventory(
            state=state,
            names=names_,
            table=table_info(self.dynamodb, names_.table),
            backups=bucket_contents(self.s3, names_.backup_bucket),
            logs=bucket_contents(self.s3, names_.backup_log_bucket),
            function_deployed=self.invoker.deployed(names_.backup_function),
        )

    def run(self, options: Options) -> Report:
        inventory = self.inspect()
        if not inventory.state.resources and not (options.deletes_leftovers and self._leftovers(inventory)):
            return self._already_removed(inventory)
        self._announce(options, inventory)
        decisions = decide(options, inventory, self.ask, self.progress)
        report = Report(self.where)
        summary = self._final_backup(decisions, inventory, report)
        if summary is not None:
            report.done.append(f"the final backup ({describe_objects(summary)})")
        try:
            state = self._release(decisions, inventory, report)
            self._destroy(state, report)
            self._delete_leftovers(decisions, inventory, state, report)
        except (TeardownError, ClientError, BotoCoreError) as error:
            done = "; ".join(report.done) or "nothing"
            raise TeardownError(f"{error}\nDone before it stopped: {done}. Rerun make destroy to go on.") from None
        self._report_kept(decisions, inventory, summary, report)
        return report

    def _leftovers(self, inventory: Inventory) -> bool:
        return any(thing is not None for thing in (inventory.table, inventory.backups, inventory.logs))

    def _announce(self, options: Options, inventory: Inventory) -> None:
        names_, table = inventory.names, inventory.table
        self.progress(f"==> make destroy: the {APP_STACK} stack in {self.where}")
        self.progress(f"    {count(len(inventory.state.resources), 'resource')} in its Terraform state")
        if options.final_backup and options.backups is not BackupChoice.DELETE:
            self.progress(f"    first a final backup: {names_.backup_function} runs once, now")
        if table is not None:
            fate = "deleted (DELETE_TABLE)" if options.delete_table else "kept, released from the Terraform state"
            self.progress(f"    table {names_.table} (about {count(table.item_count, 'item')}): {fate}")
        if inventory.backups is not None:
            fate = {"ask": "you are asked", "keep": "kept", "delete": "deleted (BACKUPS=delete)"}[options.backups]
            self.progress(
                f"    backups in {names_.backup_bucket} ({count(inventory.backups.backups, 'backup object')}) "
                f"and its log bucket {names_.backup_log_bucket}: {fate}"
            )
        if inventory.state.resources:
            self.progress("    everything else: destroyed by Terraform")

    def _already_removed(self, inventory: Inventory) -> Report:
        report = Report(self.where, already_removed=True)
        table, names_ = inventory.table, inventory.names
        if table is not None:
            report.kept.append(
                f"table {table.name}: {table.status}, about {count(table.item_count, 'item')}, not in the Terraform "
                f"state (to delete it: {HINTS['delete_table']})"
            )
        for contents in (inventory.backups, inventory.logs):
            if contents is not None:
                what = (
                    count(contents.backups, "backup object")
                    if contents.name == names_.backup_bucket
                    else count(contents.current, "object")
                )
                report.kept.append(
                    f"bucket {contents.name}: {what}, not in the Terraform state (to delete it: {HINTS['backups']})"
                )
        return report

    def _final_backup(self, decisions: Decisions, inventory: Inventory, report: Report) -> dict[str, Any] | None:
        name = inventory.names.backup_function
        if not decisions.final_backup:
            reason = "it would be deleted with the backups" if decisions.delete_backups else HINTS["skip_final_backup"]
            report.notes.append(f"No final backup was written ({reason}).")
            return None
        if not inventory.function_deployed:
            report.notes.append(f"No final backup was written: {name} is no longer deployed.")
            return None
        self.progress(f"==> final backup: invoking {name} (it may take up to its timeout)")
        started = time.monotonic()
        try:
            with ticking("the final backup is running", self.progress):
                summary = self.invoker.invoke(name, FINAL_BACKUP_EVENT)
            if not isinstance(summary, dict):
                raise FinalBackupError(f"{name} answered {str(summary)[:200]!r}, not a backup summary")
            self._check_written(inventory.names.backup_bucket, summary)
        except FinalBackupError as error:
            raise FinalBackupError(
                f"the final backup failed, so nothing was changed: {error}\n"
                f"To tear down without a final backup: {HINTS['skip_final_backup']}"
            ) from None
        self.progress(
            f"    {summary.get('items', '?')} items backed up in {time.monotonic() - started:.0f} s: "
            f"{describe_objects(summary)}"
        )
        if summary.get("emailSent") is False:
            report.notes.append(
                f"The final backup's e-mail was not sent: {summary.get('emailError', 'no reason given')}."
            )
        return summary

    def _check_written(self, bucket: str, summary: Mapping[str, Any]) -> None:
        """Every object the summary names is in the bucket: the teardown trusts the backup no further than that."""
        objects = summary.get("objects")
        for item in objects if isinstance(objects, list) else []:
            key = item.get("key") if isinstance(item, Mapping) else None
            if not isinstance(key, str):
                continue
            try:
                self.s3.head_object(Bucket=bucket, Key=key)
            except ClientError as error:
                raise FinalBackupError(
                    f"its summary names s3://{bucket}/{key}, which cannot be read ({error_code(error)})"
                ) from None

    def _release(self, decisions: Decisions, inventory: Inventory, report: Report) -> State:
        """``terraform state rm`` of what is kept, and of the objects emptied with their buckets.

        Returns the state that is left for Terraform to destroy.
        """
        state, names_ = inventory.state, inventory.names
        kept = [resource.address for resource in [state.table(names_.table)] if resource is not None]
        if not decisions.delete_backups:
            for bucket in (names_.backup_bucket, names_.backup_log_bucket):
                kept += [resource.address for resource in state.of_bucket(bucket)]
        kept += self._protected_staff_pools(state, report)
        doomed = {str(r.values.get("bucket")) for r in state.without(kept).resources if r.type == "aws_s3_bucket"}
        objects = [r.address for r in state.resources if r.type == "aws_s3_object" and r.values.get("bucket") in doomed]
        if kept:
            self.progress(f"==> releasing {count(len(kept), 'resource')} from the Terraform state (kept as they are)")
        if objects:
            self.progress(
                f"==> releasing {count(len(objects), 'object')} from the state: emptying their buckets deletes them"
            )
            report.removed.append(
                f"{count(len(objects), 'object')} uploaded by Terraform, deleted with every version when their "
                "buckets were emptied"
            )
        if kept or objects:
            self.terraform.release([*kept, *objects])
            report.done.append(f"{count(len(kept) + len(objects), 'resource')} released from the Terraform state")
        return state.without([*kept, *objects])

    def _protected_staff_pools(self, state: State, report: Report) -> list[str]:
        """A staff pool AWS keeps from deletion (the aws target's), with its client and groups: released, kept.

        Its deletion protection would make ``terraform destroy`` fail; deleting its
        app client and groups alone would leave the members signed out and without
        their groups. The pool stays whole, with every member, for a later deploy
        to import, or for someone to delete on purpose.
        """
        pools = {
            str(r.values.get("id")): r
            for r in state.resources
            if r.type == "aws_cognito_user_pool" and r.values.get("deletion_protection") == "ACTIVE"
        }
        parts = [
            r.address
            for r in state.resources
            if r.type in ("aws_cognito_user_pool_client", "aws_cognito_user_group")
            and str(r.values.get("user_pool_id")) in pools
        ]
        for pool_id, pool in pools.items():
            report.kept.append(
                f"staff user pool {pool.values.get('name')} ({pool_id}), with its members, app client and groups: "
                "it has deletion protection. To delete it on purpose: aws cognito-idp update-user-pool "
                f"--user-pool-id {pool_id} --deletion-protection INACTIVE (keeping its other settings), then "
                f"aws cognito-idp delete-user-pool --user-pool-id {pool_id}"
            )
        return [pool.address for pool in pools.values()] + parts

    def _destroy(self, state: State, report: Report) -> None:
        planned = state
        if not planned.resources:
            return
        for attempt in range(1, DESTROY_PASSES + 1):
            self._empty_buckets(state, report)
            self.progress(f"==> terraform destroy ({count(len(state.resources), 'resource')}, pass {attempt})")
            with ticking("terraform destroy is running", self.progress):
                run = self.terraform.destroy()
            if run.succeeded:
                report.done.append("terraform destroy")
                report.removed.append(
                    f"{count(len(planned.resources), 'resource')} destroyed by Terraform: {by_type(planned.resources)}"
                )
                report.notes += secret_notes(planned)
                return
            if "BucketNotEmpty" not in run.output:
                raise TeardownError(f"terraform destroy failed (log: {run.log}):\n{error_lines(run.output)}")
            self.progress("    a bucket filled again while it was destroyed (access logs): emptying it once more")
            state = self.terraform.state()
        raise TeardownError(
            f"terraform destroy still finds a bucket not empty after {DESTROY_PASSES} passes:\n"
            f"{error_lines(run.output)}"
        )

    def _empty_buckets(self, state: State, report: Report) -> None:
        """Every bucket Terraform is to delete, ``force_destroy`` or not (see the package's step 5)."""
        for bucket in state.resources:
            if bucket.type != "aws_s3_bucket":
                continue
            name = str(bucket.values.get("bucket"))
            contents = bucket_contents(self.s3, name)
            if contents is not None and contents.versions:
                self.progress(f"==> emptying bucket {name} ({count(contents.versions, 'object version')})")
                empty_bucket(self.s3, name, self.progress)
                report.done.append(f"bucket {name} emptied")

    def _delete_leftovers(self, decisions: Decisions, inventory: Inventory, state: State, report: Report) -> None:
        """The table when asked; backup buckets that no Terraform state holds any more, when asked."""
        names_ = inventory.names
        if decisions.delete_table:
            self.progress(f"==> deleting table {names_.table}: deletion protection off, then DeleteTable")
            with ticking(f"table {names_.table} is being deleted", self.progress):
                delete_table(self.dynamodb, names_.table)
            report.done.append(f"table {names_.table} deleted")
            report.removed.append(f"table {names_.table}, deleted after its deletion protection was turned off")
            report.notes.append(
                "AWS keeps a system backup of a table deleted with point-in-time recovery on for 35 days "
                "(DynamoDB console, Backups, restore deleted table)."
            )
        if not decisions.delete_backups:
            return
        destroyed = {str(r.values.get("bucket")) for r in state.resources if r.type == "aws_s3_bucket"}
        for contents in (inventory.backups, inventory.logs):
            if contents is None:
                continue
            if contents.name not in destroyed:
                self.progress(f"==> deleting bucket {contents.name}, released by an earlier teardown")
                delete_bucket(self.s3, contents.name, self.progress)
                report.done.append(f"bucket {contents.name} deleted")
            what = "backup object" if contents.name == names_.backup_bucket else "access log object"
            report.removed.append(
                f"bucket {contents.name} with {count(contents.current, what)} ({count(contents.versions, 'version')})"
            )

    def _report_kept(
        self, decisions: Decisions, inventory: Inventory, summary: Mapping[str, Any] | None, report: Report
    ) -> None:
        names_ = inventory.names
        table = table_info(self.dynamodb, names_.table)
        if table is not None:
            items = (
                f"{summary['items']} items at the final backup"
                if summary and "items" in summary
                else (f"about {count(table.item_count, 'item')}")
            )
            protection = "on" if table.deletion_protection else "OFF"
            report.kept.append(
                f"table {table.name}: {table.status}, {items}, deletion protection {protection}; no longer in the "
                f"Terraform state. It still bills its storage and point-in-time recovery. To deploy again with it, "
                "import it (below) or set another table_name."
            )
            report.commands.append(
                f"terraform -chdir={self.stack_dir} import {self._table_address(table.name)} {table.name}"
            )
        if not decisions.delete_backups:
            for bucket in (names_.backup_bucket, names_.backup_log_bucket):
                contents = bucket_contents(self.s3, bucket)
                if contents is None:
                    continue
                if bucket == names_.backup_bucket:
                    final = f"; the final backup: {describe_objects(summary)}" if summary else ""
                    what = f"{count(contents.backups, 'backup object')}{final}"
                else:
                    what = f"{count(contents.current, 'access log object')}"
                report.kept.append(f"bucket {bucket}: {what}; no longer in the Terraform state, settings unchanged")
            report.notes.append(
                "A later deploy with the same names finds the kept buckets in the way: import them "
                "(terraform import) or set another name_suffix."
            )
        report.kept.append(
            f"bucket {self.config.state_bucket}: the Terraform state ({BOOTSTRAP_STACK} stack), now without resources"
        )

    def _table_address(self, table: str) -> str:
        """The table's Terraform address, as the synthesized stack declares it (for ``terraform import``)."""
        declared = json.loads((self.stack_dir / "cdk.tf.json").read_text(encoding="utf-8"))
        tables = declared.get("resource", {}).get("aws_dynamodb_table", {})
        return next(
            (f"aws_dynamodb_table.{key}" for key, body in tables.items() if body.get("name") == table),
            "aws_dynamodb_table.<its address in cdk.tf.json>",
        )
