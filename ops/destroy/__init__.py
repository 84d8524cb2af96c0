"""``make destroy``: removes the deployed application stack without losing the students or their backups.

    .venv/bin/python -m ops.destroy --outdir DIR [--backups ask|keep|delete] [--delete-table]
                                        [--skip-final-backup] [--yes]

docs/DEPLOYING.md's "Removing a deployment", for the environment ``ENV``
chooses: without ``ENV``, ``local`` in the running emulator; an AWS environment
(``ENV=staging``, ...) with your credentials. ``DIR`` is the synthesized
output whose application stack was deployed (``.emulator/cdktf.out`` for
``local``, ``cdktf.out`` for an AWS environment; ``make destroy`` passes the
right one). In order:

1. **Looks** at what is deployed: the application stack's Terraform state, the
   table, the backup bucket and its log bucket. A state without resources is a
   deployment already removed: it says so, names what an earlier teardown
   kept, and exits 0 (unless a flag asks to delete those leftovers).
2. **Asks**, before anything changes: whether to delete the backups (a y/N
   question naming the bucket and its number of backup objects; ``--backups``
   answers it for scripts), the table's name when ``--delete-table`` asks to
   delete it, and ``yes`` to go on (``--yes`` answers both for scripts).
3. **Writes a final backup**: invokes the deployed backup function with a
   non-API event, which makes it run a backup inline and return its summary.
   A failed backup stops everything, with nothing changed. Skipped with
   ``--skip-final-backup``, and when the backups are to be deleted (it would be
   deleted with them).
4. **Releases** from the Terraform state what is kept: always the table
   (Terraform's ``prevent_destroy`` and AWS's deletion protection both refuse
   to delete it), and, when the backups are kept, the backup bucket and its log
   bucket with every setting of theirs (versioning, policy, public access
   block, lifecycle, logging): they stay exactly as they are, outside Terraform.
5. **Destroys the rest** with ``terraform destroy``, after emptying the buckets
   it is to delete (every version and delete marker). The objects Terraform
   uploaded into those buckets (the website's) go with that emptying and leave
   the state first: Terraform deletes an object it holds no version id of (one
   uploaded before the bucket's versioning was on) with a plain DeleteObject,
   which in a versioned bucket only adds a delete marker; in the emulator,
   deleting that key once the bucket's versioning is suspended (as destroying
   its versioning resource does) then fails, and the provider retries for an
   hour. Emptying the backup bucket is itself logged into the log bucket, so
   a destroy can stop at a bucket that filled again (``BucketNotEmpty``): it is
   emptied once more and the destroy rerun, ``DESTROY_PASSES`` times at most.
6. **Deletes the table** when asked: deletion protection off, then
   ``DeleteTable``. Backup buckets released by an earlier teardown are deleted
   when ``--backups delete`` says so.
7. **Reports** what was kept and what was removed, and what to know before
   deploying again.

Any failure ends with a non-zero exit and a message saying what failed and
what had been done; a rerun picks up from there.

The package, one module per part of that:

- ``cli``: the command line (``python -m ops.destroy``, ``__main__``), its
  exit codes and messages; ``targets``: the clients and the account or
  emulator of each target, and ``teardown``, which wires the steps for it;
- ``steps``: ``Teardown``, the steps above in order;
- ``options`` (the flags), ``questions`` (step 2, before anything changes),
  ``console`` (questions, progress lines and ticks on the terminal);
- ``state`` (the Terraform state and the names it gives), ``table`` and
  ``buckets`` (as DynamoDB and S3 have them: counted, emptied, deleted),
  ``final_backup`` (step 3's invokers), ``terraform`` (releases and destroy
  passes), ``report`` (step 7), ``errors``.

What the tests and other tools use is imported here.
"""

from ops.destroy.buckets import DESTROY_PASSES, BucketContents, bucket_contents, delete_bucket, empty_bucket
from ops.destroy.cli import main
from ops.destroy.errors import NothingDeployed, TeardownError
from ops.destroy.final_backup import (
    FINAL_BACKUP_EVENT,
    LAMBDA_MAX_TIMEOUT_SECONDS,
    BackupInvoker,
    EmulatorInvoker,
    FinalBackupError,
    LambdaInvoker,
)
from ops.destroy.options import BackupChoice, Options
from ops.destroy.report import Report
from ops.destroy.state import Names, State, StateResource
from ops.destroy.steps import Teardown
from ops.destroy.table import TableInfo, delete_table, table_info
from ops.destroy.targets import teardown
from ops.destroy.terraform import DestroyRun, Terraform, TerraformCli

__all__ = [
    "DESTROY_PASSES",
    "FINAL_BACKUP_EVENT",
    "LAMBDA_MAX_TIMEOUT_SECONDS",
    "BackupChoice",
    "BackupInvoker",
    "BucketContents",
    "DestroyRun",
    "EmulatorInvoker",
    "FinalBackupError",
    "LambdaInvoker",
    "Names",
    "NothingDeployed",
    "Options",
    "Report",
    "State",
    "StateResource",
    "TableInfo",
    "Teardown",
    "TeardownError",
    "Terraform",
    "TerraformCli",
    "bucket_contents",
    "delete_bucket",
    "delete_table",
    "empty_bucket",
    "main",
    "table_info",
    "teardown",
]
