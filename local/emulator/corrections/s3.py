"""S3: moto's own reading of bucket policies is switched off.

Every request is authorized before moto sees it (``local/emulator/iam/``):
a role session's by its role's policies and the resource's policy, the
administrator's by the resource policies' explicit denies. moto's own reading
of bucket policies (which evaluated only ``StringEquals`` and took any other
condition as holding) is switched off: ``FakeBucket.get_permission`` answers
"neutral", so a policy is read once, by the evaluator the edge uses too.
"""

from __future__ import annotations

from moto.iam.access_control import PermissionResult
from moto.s3.models import FakeBucket


def _no_bucket_policy_of_moto(self: FakeBucket, action: str, resource: str) -> PermissionResult:
    """moto's bucket-policy check, answered "neutral": ``local/emulator/iam/`` has decided before moto was asked."""
    return PermissionResult.NEUTRAL


def install() -> None:
    """Patch moto (once: ``moto_server.py`` installs every correction as it starts)."""
    FakeBucket.get_permission = _no_bucket_policy_of_moto  # type: ignore[method-assign]
