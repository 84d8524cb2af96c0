"""CloudFront's part of the deployment: the distribution's origins and cache behaviours, as ``GetDistribution``
gives them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from local.edge.deployment.errors import NotDeployed, error_code


@dataclass(frozen=True)
class Origin:
    id: str
    domain_name: str
    path: str
    custom_headers: tuple[tuple[str, str], ...]
    origin_access_control_id: str


@dataclass(frozen=True)
class Behaviour:
    path_pattern: str  #: empty for the default behaviour
    origin_id: str
    allowed_methods: frozenset[str]
    origin_request_policy_id: str

    def matches(self, path: str) -> bool:
        """CloudFront's path pattern: ``*`` any characters, ``?`` exactly one, case-sensitive, whole path."""
        pattern = self.path_pattern if self.path_pattern.startswith("/") else "/" + self.path_pattern
        expression = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
        return re.fullmatch(expression, path, flags=re.DOTALL) is not None


@dataclass(frozen=True)
class Distribution:
    id: str
    #: ``arn:aws:cloudfront::<account>:distribution/<id>``: what a bucket policy names as ``AWS:SourceArn``.
    arn: str
    enabled: bool
    default_root_object: str
    origins: Mapping[str, Origin]
    ordered: tuple[Behaviour, ...]
    default: Behaviour

    def behaviour_for(self, path: str) -> Behaviour:
        """The first ordered behaviour whose pattern matches, else the default one."""
        return next((behaviour for behaviour in self.ordered if behaviour.matches(path)), self.default)


def read_distribution(client: Any, distribution_id: str) -> Distribution:
    """The distribution as deployed (``NotDeployed`` when there is no such distribution)."""
    try:
        described = client.get_distribution(Id=distribution_id)["Distribution"]
    except ClientError as error:
        raise NotDeployed(f"distribution {distribution_id}: {error_code(error)}") from None
    config = described["DistributionConfig"]
    origins = {
        item["Id"]: Origin(
            id=item["Id"],
            domain_name=item["DomainName"],
            path=item.get("OriginPath") or "",
            custom_headers=tuple(
                (header["HeaderName"], header["HeaderValue"])
                for header in (item.get("CustomHeaders") or {}).get("Items") or []
            ),
            origin_access_control_id=item.get("OriginAccessControlId") or "",
        )
        for item in (config.get("Origins") or {}).get("Items") or []
    }
    return Distribution(
        id=distribution_id,
        arn=described["ARN"],
        enabled=bool(config.get("Enabled")),
        default_root_object=config.get("DefaultRootObject") or "",
        origins=origins,
        ordered=tuple(_behaviour(item) for item in (config.get("CacheBehaviors") or {}).get("Items") or []),
        default=_behaviour(config["DefaultCacheBehavior"]),
    )


def _behaviour(item: Mapping[str, Any]) -> Behaviour:
    return Behaviour(
        path_pattern=item.get("PathPattern") or "",
        origin_id=item["TargetOriginId"],
        allowed_methods=frozenset((item.get("AllowedMethods") or {}).get("Items") or ("GET", "HEAD")),
        origin_request_policy_id=item.get("OriginRequestPolicyId") or "",
    )
