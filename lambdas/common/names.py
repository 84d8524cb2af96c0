"""Names shared by the infrastructure, the function code and the tests.

One source of truth: the constructs under ``modules/`` import these to name
attributes, environment variables and outputs; the handlers under ``lambdas/``
import them to read their configuration; the tests import them to build the
same table the infrastructure builds. This module is packaged with every
function, so it imports nothing but the standard library.
"""

from __future__ import annotations

from typing import Final

# --- DynamoDB -------------------------------------------------------------
#: Partition key of the student table (tutorial section 2.4). String type.
STUDENT_KEY: Final = "studentid"
STUDENT_KEY_TYPE: Final = "S"
#: Every attribute a student record carries, in the order the page shows them.
STUDENT_FIELDS: Final = ("studentid", "name", "class", "birthdate", "email")

# --- Function environment variables ---------------------------------------
ENV_TABLE_NAME: Final = "TABLE_NAME"
ENV_BACKUP_BUCKET: Final = "S3_BUCKET_NAME"
ENV_SENDER_EMAIL: Final = "SENDER_EMAIL"
ENV_RECIPIENT_EMAIL: Final = "RECIPIENT_EMAIL"
ENV_ALLOWED_ORIGIN: Final = "ALLOWED_ORIGIN"
ENV_RUNS_TABLE_NAME: Final = "RUNS_TABLE_NAME"
#: Set only in an environment with qualified names (staging): production's functions use ``METRIC_NAMESPACE``.
ENV_METRIC_NAMESPACE: Final = "METRIC_NAMESPACE"

# --- Staff sign-in (the Cognito user pool) ---------------------------------
#: Every staff member: may list and add students.
STAFF_GROUP: Final = "staff"
#: Staff who may also start backups and read their runs (``POST``/``GET /backup``).
ADMIN_GROUP: Final = "admin"
#: The claim that lists a signed-in user's groups in Cognito's tokens.
GROUPS_CLAIM: Final = "cognito:groups"

# --- Backup objects ---------------------------------------------------------
BACKUP_PREFIX: Final = "backups/"

# --- Metrics the functions emit (CloudWatch embedded metric format) ----------
#: Namespace of the system's own metrics; the alarms watch these names.
METRIC_NAMESPACE: Final = "StudentManagement"
#: 1 for every backup run whose objects were all written (no dimensions).
METRIC_BACKUP_SUCCEEDED: Final = "BackupSucceeded"
#: 1 for every backup run that wrote nothing (its objects were discarded).
METRIC_BACKUP_FAILED: Final = "BackupFailed"
#: 1 for every backup run whose summary e-mail could not be sent.
METRIC_BACKUP_EMAIL_FAILED: Final = "BackupEmailFailed"

# --- Terraform outputs of the application stack -----------------------------
OUTPUT_TABLE_NAME: Final = "table_name"
OUTPUT_TABLE_ARN: Final = "table_arn"
OUTPUT_RUNS_TABLE_NAME: Final = "backup_runs_table_name"
OUTPUT_BACKUP_BUCKET: Final = "backup_bucket_name"
OUTPUT_BACKUP_LOG_BUCKET: Final = "backup_log_bucket_name"
OUTPUT_SES_IDENTITIES: Final = "ses_identities"
OUTPUT_API_URL: Final = "api_invoke_url"
OUTPUT_API_ID: Final = "api_id"
OUTPUT_API_KEY_SECRET_ARN: Final = "api_key_secret_arn"  # noqa: S105 - an output name, not a secret
OUTPUT_SITE_URL: Final = "site_url"
OUTPUT_SITE_DISTRIBUTION_ID: Final = "site_distribution_id"
OUTPUT_WEBSITE_BUCKET: Final = "website_bucket_name"
OUTPUT_STAFF_USER_POOL_ID: Final = "staff_user_pool_id"
OUTPUT_STAFF_USER_POOL_CLIENT_ID: Final = "staff_user_pool_client_id"
#: Outputs of the bootstrap stack.
OUTPUT_STATE_BUCKET: Final = "state_bucket_name"
