"""Cognito user pools: an update keeps what it does not name.

moto answers ``UpdateUserPool`` by replacing the pool's whole configuration
with the request's (over its defaults). The request cannot carry what only
``CreateUserPool`` sets (``UsernameAttributes``, ``AliasAttributes``,
``UsernameConfiguration``), and the AWS provider sends no ``UserPoolTags``
with it (tags have calls of their own, which moto's Cognito lacks), so after
any change to the pool (turning ``staff_mfa`` on, say) moto described a pool
without sign-in by e-mail and without tags: the next plan replaced the pool,
and with it every staff account. AWS keeps all of these across an update; so
does this emulator: each is kept when the update does not name it.
"""

from __future__ import annotations

from typing import Any

from moto.cognitoidp.models import CognitoIdpBackend

#: Set by CreateUserPool only (UpdateUserPool has no such parameters), or, for the
#: tags, by calls of their own: an update leaves them as they are, in AWS.
USER_POOL_KEPT_BY_UPDATE = ("UsernameAttributes", "AliasAttributes", "UsernameConfiguration", "UserPoolTags")

_moto_update_user_pool = CognitoIdpBackend.update_user_pool


def update_user_pool(self: CognitoIdpBackend, user_pool_id: str, extended_config: dict[str, Any]) -> None:
    current = self.describe_user_pool(user_pool_id).extended_config
    kept = {key: current[key] for key in USER_POOL_KEPT_BY_UPDATE if key in current and key not in extended_config}
    _moto_update_user_pool(self, user_pool_id, {**extended_config, **kept})


def install() -> None:
    """Patch moto (once: ``moto_server.py`` installs every correction as it starts)."""
    CognitoIdpBackend.update_user_pool = update_user_pool  # type: ignore[method-assign]
