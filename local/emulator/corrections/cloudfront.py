"""CloudFront distributions: ``GetDistribution`` answers with the distribution that was created.

moto answers ``GetDistribution`` with a config that differs from the one it
was given, so every ``terraform plan`` after an apply showed the distribution
changed (and every ``make up`` rewrote it): it drops each origin's
``OriginAccessControlId``, adds ``ForwardedValues`` to cache behaviours that
use a cache policy (AWS sends none: the two are exclusive), and invents
``SSLSupportMethod: sni-only`` for the default certificate. The patches below
keep what was sent and add nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.cloudfront import models as cloudfront_models


def _keep_origin_access_control(init: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(init)
    def wrapped(self: Any, origin: dict[str, Any]) -> None:
        init(self, origin)
        self.origin_access_control_id = origin.get("OriginAccessControlId", "")

    return wrapped


def _forwarded_values_only_if_given(init: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(init)
    def wrapped(self: Any, config: dict[str, Any]) -> None:
        init(self, config)
        if "ForwardedValues" not in config:
            self.forwarded_values = None

    return wrapped


def _ssl_support_method_only_if_given(init: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(init)
    def wrapped(self: Any, config: dict[str, Any]) -> None:
        init(self, config)
        if not config.get("SSLSupportMethod"):
            self.ssl_support_method = None

    return wrapped


def install() -> None:
    """Patch moto (once: ``moto_server.py`` installs every correction as it starts)."""
    cloudfront_models.Origin.__init__ = _keep_origin_access_control(cloudfront_models.Origin.__init__)  # type: ignore[method-assign]
    cloudfront_models.DefaultCacheBehaviour.__init__ = _forwarded_values_only_if_given(  # type: ignore[method-assign]
        cloudfront_models.DefaultCacheBehaviour.__init__
    )
    cloudfront_models.ViewerCertificate.__init__ = _ssl_support_method_only_if_given(  # type: ignore[method-assign]
        cloudfront_models.ViewerCertificate.__init__
    )
