"""Tutorial sections 5, 6.1-6.4 and 7.1-7.3: the page, its private bucket, and the CloudFront distribution.

The tutorial makes ``student-management-website-2025`` a public website bucket,
then puts CloudFront in front of it with an origin access identity. Here the
bucket is never public: it is a ``SecureBucket`` (Block Public Access on,
ACLs disabled, TLS only) that only this distribution may read, through Origin
Access Control (OAC signs each request with SigV4; OAI is its legacy
predecessor and cannot sign for SSE-KMS or newer regions). No static website
hosting: CloudFront serves ``index.html`` as the default root object.

The distribution ``StudentWebsiteDistribution`` has two origins: the bucket,
and the REST API's stage (``/students``, ``/backup``), so the page calls the API
on its own origin with relative paths. CloudFront adds the ``x-api-key``
header to every request it sends the API, as an origin custom header whose
value is the key resource's value. The tutorial suggested a CloudFront
Function for that; a custom header is better: the key never exists in code,
in a function's source, or in the browser, it changes with the key resource
on the next apply, and the local emulator supports it (it runs no functions).

Every response carries the security headers of ``modules/site/headers.py``
(HSTS, nosniff, frame denial, referrer policy, the CSP, a permissions
policy) through a response-headers policy.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from constructs import Construct

from engine.aws.cloudfront_distribution import (
    CloudfrontDistribution,
    CloudfrontDistributionDefaultCacheBehavior,
    CloudfrontDistributionOrderedCacheBehavior,
    CloudfrontDistributionOrigin,
    CloudfrontDistributionOriginCustomHeader,
    CloudfrontDistributionOriginCustomOriginConfig,
    CloudfrontDistributionRestrictions,
    CloudfrontDistributionRestrictionsGeoRestriction,
    CloudfrontDistributionViewerCertificate,
)
from engine.aws.cloudfront_origin_access_control import CloudfrontOriginAccessControl
from engine.aws.cloudfront_response_headers_policy import (
    CloudfrontResponseHeadersPolicy,
    CloudfrontResponseHeadersPolicyCustomHeadersConfig,
    CloudfrontResponseHeadersPolicyCustomHeadersConfigItems,
    CloudfrontResponseHeadersPolicySecurityHeadersConfig,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicy,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigContentTypeOptions,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigFrameOptions,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigReferrerPolicy,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurity,
)
from engine.aws.s3_object import S3Object
from engine.cdk import AssetType, ITerraformDependable, TerraformAsset, TerraformResourceLifecycle
from modules.shared import iam
from modules.shared.lifecycle import expire_noncurrent_versions
from modules.shared.naming import qualified
from modules.shared.secure_bucket import SecureBucket
from modules.site import assets as site_assets
from modules.site import headers as site_headers

DISTRIBUTION_NAME: Final = "StudentWebsiteDistribution"
S3_ORIGIN: Final = "website-bucket"
API_ORIGIN: Final = "student-api"
#: The header API Gateway reads the key from; CloudFront adds it, the browser never sees it.
API_KEY_HEADER: Final = "x-api-key"
#: Managed CloudFront policies (identical in every account; the emulator accepts their ids).
CACHING_OPTIMIZED: Final = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED: Final = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
#: Every viewer header, cookie and query string except Host: API Gateway
#: routes on its own host name, so the viewer's Host must not reach it.
ALL_VIEWER_EXCEPT_HOST_HEADER: Final = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
#: The managed security-headers policy: the local target's stand-in for the
#: project's own policy, which the emulator cannot create (see ``EdgePolicies``).
MANAGED_SECURITY_HEADERS: Final = "67f7725c-6f97-4210-82d7-5512b31e9d03"
#: CloudFront accepts exactly these method sets; the API's POST routes need the full one.
ALL_METHODS: Final = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
READ_METHODS: Final = ("GET", "HEAD")
#: The first TLS policy without TLS 1.0/1.1 or CBC ciphers of the 2021 review.
MODERN_TLS: Final = "TLSv1.2_2021"
#: What CloudFront requires with its default ``*.cloudfront.net`` certificate.
DEFAULT_CERTIFICATE_TLS: Final = "TLSv1"


@dataclass(frozen=True, kw_only=True)
class SiteCertificate:
    """A custom domain for the site and its ACM certificate (in us-east-1, as CloudFront requires)."""

    domain_name: str
    certificate_arn: str


@dataclass(frozen=True, kw_only=True)
class ApiOrigin:
    """The REST API as the distribution reaches it: host, stage path, and the key CloudFront adds."""

    domain_name: str
    stage_path: str
    api_key_value: str
    paths: Sequence[str]


class Website(Construct):
    """The website bucket with the page's objects, its OAC, and ``StudentWebsiteDistribution``.

    Attributes: ``bucket`` (``SecureBucket``), ``objects`` (key → ``S3Object``),
    ``origin_access_control``, ``response_headers_policy`` (None where the
    emulator cannot create one), ``distribution``, ``url``.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        bucket_name: str,
        api: ApiOrigin,
        site: Sequence[site_assets.SiteObject],
        site_dir: Path,
        own_response_headers_policy: bool,
        certificate: SiteCertificate | None,
        price_class: str,
        noncurrent_version_retention_days: int,
        web_acl_arn: str | None = None,
        connect_to: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id_)
        self.bucket = SecureBucket(
            self,
            "bucket",
            bucket_name=bucket_name,
            lifecycle_rules=[expire_noncurrent_versions(noncurrent_version_retention_days)],
            # Every object is uploaded by Terraform from frontend/: nothing here is lost with the bucket.
            force_destroy=True,
        )
        self.objects = self._upload(site, site_dir)
        self.origin_access_control = CloudfrontOriginAccessControl(
            self,
            "origin-access-control",
            name=bucket_name,
            description=f"{DISTRIBUTION_NAME} reads the website bucket, signing each request with SigV4.",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
        )
        self.response_headers_policy = self._security_headers(connect_to) if own_response_headers_policy else None
        headers_policy_id = (
            self.response_headers_policy.id if self.response_headers_policy else MANAGED_SECURITY_HEADERS
        )
        self.distribution = self._distribution(api, headers_policy_id, certificate, price_class, web_acl_arn)
        self._admit_distribution()
        domain = certificate.domain_name if certificate else self.distribution.domain_name
        self.url = f"https://{domain}"

    def _upload(self, site: Sequence[site_assets.SiteObject], site_dir: Path) -> dict[str, S3Object]:
        """Each built file as an object with its content type and cache header.

        A fingerprinted object's key changes with its content: the new object
        is created before the old one is deleted, and ``index.html`` (which
        names the new keys) is written only after all of them exist, so no
        visitor is ever sent a page whose assets are missing.
        """
        files = TerraformAsset(self, "files", path=str(site_dir), type=AssetType.DIRECTORY)
        page, *assets = site
        if page.key != site_assets.INDEX:
            raise ValueError(f"the site's first object must be {site_assets.INDEX}, not {page.key}")
        # Every object after the bucket's versioning: an object written before it is
        # on has no version, and a teardown must then delete it under suspended
        # versioning (which moto 5.2 answers with a 500).
        versioned: list[ITerraformDependable] = [self.bucket.versioning]
        objects = {item.key: self._object(item, files, depends_on=versioned) for item in assets}
        objects[page.key] = self._object(page, files, depends_on=[*versioned, *objects.values()])
        return objects

    def _object(
        self, item: site_assets.SiteObject, files: TerraformAsset, *, depends_on: Sequence[ITerraformDependable]
    ) -> S3Object:
        generated = item.text is not None
        return S3Object(
            self,
            f"object-{_construct_name(item.source_name)}",
            bucket=self.bucket.bucket.id,
            key=item.key,
            # A generated object (config.json) is written from its text, whose
            # references Terraform resolves at apply; a file, from the file.
            content=item.text,
            source=None if generated else f"{files.path}/{item.key}",
            # Changes of content replace the object: the hash of what is uploaded, not a time stamp.
            source_hash=None if generated else item.sha256,
            content_type=item.content_type,
            cache_control=item.cache_control,
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            depends_on=list(depends_on) or None,
        )

    def _security_headers(self, connect_to: Sequence[str]) -> CloudfrontResponseHeadersPolicy:
        """``modules/site/headers.py`` as a response-headers policy, overriding whatever an origin sends.

        ``connect_to``: origins besides its own the page may call (Cognito's endpoint).
        """
        return CloudfrontResponseHeadersPolicy(
            self,
            "security-headers",
            name=qualified(self, f"{DISTRIBUTION_NAME}-security-headers"),
            comment="HSTS, nosniff, frame denial, referrer policy, CSP and permissions policy on every response.",
            security_headers_config=CloudfrontResponseHeadersPolicySecurityHeadersConfig(
                content_security_policy=CloudfrontResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicy(
                    content_security_policy=site_headers.content_security_policy(connect_to=connect_to),
                    override=True,
                ),
                content_type_options=CloudfrontResponseHeadersPolicySecurityHeadersConfigContentTypeOptions(
                    override=True
                ),
                frame_options=CloudfrontResponseHeadersPolicySecurityHeadersConfigFrameOptions(
                    frame_option=site_headers.FRAME_OPTIONS, override=True
                ),
                referrer_policy=CloudfrontResponseHeadersPolicySecurityHeadersConfigReferrerPolicy(
                    referrer_policy=site_headers.REFERRER_POLICY, override=True
                ),
                strict_transport_security=CloudfrontResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurity(
                    access_control_max_age_sec=site_headers.HSTS_MAX_AGE_SECONDS,
                    include_subdomains=True,
                    preload=False,
                    override=True,
                ),
            ),
            custom_headers_config=CloudfrontResponseHeadersPolicyCustomHeadersConfig(
                items=[
                    CloudfrontResponseHeadersPolicyCustomHeadersConfigItems(
                        header="Permissions-Policy", value=site_headers.PERMISSIONS_POLICY, override=True
                    )
                ]
            ),
        )

    def _distribution(
        self,
        api: ApiOrigin,
        headers_policy_id: str,
        certificate: SiteCertificate | None,
        price_class: str,
        web_acl_arn: str | None,
    ) -> CloudfrontDistribution:
        return CloudfrontDistribution(
            self,
            "distribution",
            comment=qualified(self, DISTRIBUTION_NAME),
            enabled=True,
            is_ipv6_enabled=True,
            http_version="http2and3",
            price_class=price_class,
            default_root_object=site_assets.INDEX,
            aliases=[certificate.domain_name] if certificate else None,
            origin=[self._bucket_origin(), _api_origin(api)],
            default_cache_behavior=CloudfrontDistributionDefaultCacheBehavior(
                target_origin_id=S3_ORIGIN,
                viewer_protocol_policy="redirect-to-https",
                allowed_methods=list(READ_METHODS),
                cached_methods=list(READ_METHODS),
                compress=True,
                cache_policy_id=CACHING_OPTIMIZED,
                response_headers_policy_id=headers_policy_id,
            ),
            ordered_cache_behavior=[
                CloudfrontDistributionOrderedCacheBehavior(
                    path_pattern=path,
                    target_origin_id=API_ORIGIN,
                    # A redirect would turn the page's POST into a GET: HTTPS or nothing.
                    viewer_protocol_policy="https-only",
                    allowed_methods=list(ALL_METHODS),
                    cached_methods=list(READ_METHODS),
                    compress=True,
                    # Student records are personal data and change with every insert.
                    cache_policy_id=CACHING_DISABLED,
                    origin_request_policy_id=ALL_VIEWER_EXCEPT_HOST_HEADER,
                    response_headers_policy_id=headers_policy_id,
                )
                for path in api.paths
            ],
            restrictions=CloudfrontDistributionRestrictions(
                geo_restriction=CloudfrontDistributionRestrictionsGeoRestriction(restriction_type="none")
            ),
            viewer_certificate=_viewer_certificate(certificate),
            web_acl_id=web_acl_arn,
            tags={"Name": qualified(self, DISTRIBUTION_NAME)},
        )

    def _bucket_origin(self) -> CloudfrontDistributionOrigin:
        return CloudfrontDistributionOrigin(
            origin_id=S3_ORIGIN,
            domain_name=self.bucket.bucket.bucket_regional_domain_name,
            origin_access_control_id=self.origin_access_control.id,
        )

    def _admit_distribution(self) -> None:
        """The bucket policy: this distribution (and nothing else) reads objects and lists keys.

        ``s3:ListBucket`` lets S3 answer a missing key with 404 instead of 403,
        so a mistyped path is "not found" rather than a misleading "forbidden".
        """
        only_this_distribution = [iam.Condition("StringEquals", "AWS:SourceArn", self.distribution.arn)]
        cloudfront = iam.Principal.service("cloudfront.amazonaws.com")
        self.bucket.add_to_resource_policy(
            iam.statement(
                "AllowCloudFrontReadObjects",
                ["s3:GetObject"],
                [f"{self.bucket.bucket.arn}/*"],
                principal=cloudfront,
                conditions=only_this_distribution,
            )
        )
        self.bucket.add_to_resource_policy(
            iam.statement(
                "AllowCloudFrontListKeys",
                ["s3:ListBucket"],
                [self.bucket.bucket.arn],
                principal=cloudfront,
                conditions=only_this_distribution,
            )
        )


def _api_origin(api: ApiOrigin) -> CloudfrontDistributionOrigin:
    return CloudfrontDistributionOrigin(
        origin_id=API_ORIGIN,
        domain_name=api.domain_name,
        origin_path=api.stage_path,
        custom_origin_config=CloudfrontDistributionOriginCustomOriginConfig(
            http_port=80,
            https_port=443,
            origin_protocol_policy="https-only",
            origin_ssl_protocols=["TLSv1.2"],
        ),
        # CloudFront replaces any x-api-key a viewer sends with this one.
        custom_header=[CloudfrontDistributionOriginCustomHeader(name=API_KEY_HEADER, value=api.api_key_value)],
    )


def _viewer_certificate(certificate: SiteCertificate | None) -> CloudfrontDistributionViewerCertificate:
    """The custom domain's certificate with a modern TLS floor, or CloudFront's default one.

    With the default ``*.cloudfront.net`` certificate CloudFront fixes the
    policy at TLSv1 (it serves every distribution); only a custom domain can
    refuse old TLS versions (docs/ARCHITECTURE.md: "The website").
    """
    if certificate is None:
        return CloudfrontDistributionViewerCertificate(
            cloudfront_default_certificate=True, minimum_protocol_version=DEFAULT_CERTIFICATE_TLS
        )
    return CloudfrontDistributionViewerCertificate(
        acm_certificate_arn=certificate.certificate_arn,
        ssl_support_method="sni-only",
        minimum_protocol_version=MODERN_TLS,
    )


def _construct_name(source_name: str) -> str:
    """A stable construct ID for a source file: its name, not its fingerprinted key."""
    return re.sub(r"[^a-z0-9]+", "-", source_name.lower()).strip("-")
