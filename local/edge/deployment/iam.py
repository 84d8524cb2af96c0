"""IAM's part: the emulator's decision on a call made to the edge, as its authorize route answers it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

#: The emulator's route that decides a call made to the edge, as IAM would (local/emulator/iam/routes.py).
AUTHORIZE_ROUTE: Final = "/_emulator/iam/authorize"


@dataclass(frozen=True)
class Authorization:
    """The emulator's IAM decision on a call: allowed, or AWS's ``AccessDenied`` message."""

    allowed: bool
    principal: str = ""
    code: str = ""
    message: str = ""

    @classmethod
    def of(cls, decision: Mapping[str, Any]) -> Authorization:
        """From the answer of the emulator's ``/_emulator/iam/authorize``."""
        return cls(
            allowed=bool(decision.get("allowed")),
            principal=str(decision.get("principal", "")),
            code=str(decision.get("code", "")),
            message=str(decision.get("message", "")),
        )
