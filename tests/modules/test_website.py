"""Tutorial sections 5, 6.1-6.4 and 7.1-7.3: the website bucket, its objects and StudentWebsiteDistribution."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, cast

import pytest

from lambdas.common import names
from modules.site.website import API_ORIGIN, CACHING_OPTIMIZED, S3_ORIGIN
from tests.conftest import TARGETS, Synth
from tests.synth_helpers import Doc, api_shaping, assert_check_catches, data_sources, resource, served_digest
from tests.website_properties import (
    API,
    APP,
    BUCKET,
    CHECKS,
    HEADERS_POLICY,
    OAC,
    ONLY_ON,
    WEBSITE,
    distribution,
    origins,
)

Locate = Callable[[Doc], Doc]
Mutation = Callable[[Doc], None]


@pytest.mark.parametrize(
    ("target", "check"),
    [(target, check) for check in sorted(CHECKS) for target in TARGETS if ONLY_ON.get(check, target) == target],
)
def test_website_requirement_holds(synth: dict[str, Synth], target: str, check: str) -> None:
    CHECKS[check](synth[target].stack(APP))


# --- where a mutation edits ---------------------------------------------------


def _resource(kind: str, path: str) -> Locate:
    return lambda stack: resource(stack, kind, path)


def _within(locate: Locate, *keys: str | int) -> Locate:
    """The block found by following ``keys`` down from what ``locate`` finds."""

    def find(stack: Doc) -> Doc:
        node: Any = locate(stack)
        for key in keys:
            node = node[key]
        return cast(Doc, node)

    return find


def _origin(origin_id: str) -> Locate:
    return lambda stack: origins(stack)[origin_id]


def _policy_document(stack: Doc) -> Doc:
    return data_sources(stack, "aws_iam_policy_document")[f"{BUCKET}/policy-document"]


def _statement(sid: str) -> Locate:
    return lambda stack: next(s for s in _policy_document(stack)["statement"] if s.get("sid") == sid)


def _object(name: str) -> Locate:
    """An uploaded object by construct name (``index-html``, ``css-base-css``): fingerprinted keys change."""
    return _resource("aws_s3_object", f"{WEBSITE}/object-{name}")


_oac = _resource("aws_cloudfront_origin_access_control", OAC)
_api_tls = _within(_origin(API_ORIGIN), "custom_origin_config")
_default_behaviour = _within(distribution, "default_cache_behavior")
_api_behaviour = _within(distribution, "ordered_cache_behavior", 0)
_headers_policy = _resource("aws_cloudfront_response_headers_policy", HEADERS_POLICY)
_public_access_block = _resource("aws_s3_bucket_public_access_block", f"{BUCKET}/public-access-block")
_deployment_triggers = _within(_resource("aws_api_gateway_deployment", f"{API}/deployment"), "triggers")


def _undigest(kind: str) -> Mutation:
    """Leave every resource of ``kind`` out of the deployment's digest, and what they alone refer to."""

    def mutate(stack: Doc) -> None:
        triggers = _deployment_triggers(stack)
        triggers["served"] = served_digest(stack, without=kind)
        kept = set(re.findall(r"\$\{([^}]*)\}", json.dumps(api_shaping(stack, without=kind))))
        triggers["references"] = "${sha1(jsonencode([" + ", ".join(sorted(kept)) + "]))}"

    return mutate


def _header(name: str) -> Locate:
    return _within(_headers_policy, "security_headers_config", name)


def _environment(function: str) -> Locate:
    return _within(_resource("aws_lambda_function", f"{APP}/{function}-function/function"), "environment", "variables")


def _gateway_response(response_type: str) -> Locate:
    return _within(
        _resource("aws_api_gateway_gateway_response", f"{API}/gateway-{response_type}"), "response_parameters"
    )


# --- how it edits ---------------------------------------------------------------


def _set(locate: Locate, key: str, value: object) -> Mutation:
    def mutate(stack: Doc) -> None:
        locate(stack)[key] = value

    return mutate


def _drop(locate: Locate, key: str) -> Mutation:
    def mutate(stack: Doc) -> None:
        del locate(stack)[key]

    return mutate


def _drop_statement(sid: str) -> Mutation:
    def mutate(stack: Doc) -> None:
        document = _policy_document(stack)
        document["statement"] = [s for s in document["statement"] if s.get("sid") != sid]

    return mutate


def _add_statement(stack: Doc) -> None:
    _policy_document(stack)["statement"].append(
        {
            "sid": "AllowEveryonePut",
            "effect": "Allow",
            "actions": ["s3:PutObject"],
            "principals": [{"type": "*", "identifiers": ["*"]}],
            "resources": ["*"],
        }
    )


def _drop_api_behaviour(stack: Doc) -> None:
    distribution(stack)["ordered_cache_behavior"].pop()


def _csp_replace(old: str, new: str) -> Mutation:
    def mutate(stack: Doc) -> None:
        csp = _header("content_security_policy")(stack)
        assert old in csp["content_security_policy"]
        csp["content_security_policy"] = csp["content_security_policy"].replace(old, new)

    return mutate


def _config_json(edit: Callable[[dict[str, Any]], None]) -> Mutation:
    """Edit config.json's auth object (the object's text is JSON with Terraform references)."""

    def mutate(stack: Doc) -> None:
        body = _object("config-json")(stack)
        config = json.loads(body["content"])
        edit(config["auth"])
        body["content"] = json.dumps(config, indent=2, sort_keys=True) + "\n"

    return mutate


def _drop_page_dependency(stack: Doc) -> None:
    _object("index-html")(stack)["depends_on"].pop()


def _site_url_over_http(stack: Doc) -> None:
    url = stack["output"][names.OUTPUT_SITE_URL]
    url["value"] = url["value"].replace("https://", "http://", 1)


OTHER_DISTRIBUTION_ARN = "${aws_cloudfront_distribution.someone_else.arn}"
#: Mutation name → (the change, the check that must catch it).
MUTATIONS: dict[str, tuple[Mutation, str]] = {
    # Origin access control.
    "OAC never signs": (_set(_oac, "signing_behavior", "never"), "check_origin_access_control"),
    "OAC signs for a MediaStore origin": (
        _set(_oac, "origin_access_control_origin_type", "mediastore"),
        "check_origin_access_control",
    ),
    "bucket origin through a legacy OAI": (
        _set(_origin(S3_ORIGIN), "s3_origin_config", {"origin_access_identity": "origin-access-identity/E1"}),
        "check_origin_access_control",
    ),
    "bucket origin is the website endpoint": (
        _set(_origin(S3_ORIGIN), "domain_name", "student-management-website-2025.s3-website-us-east-1.amazonaws.com"),
        "check_origin_access_control",
    ),
    # The bucket policy.
    "bucket policy principal widened": (
        _set(_statement("AllowCloudFrontReadObjects"), "principals", [{"type": "*", "identifiers": ["*"]}]),
        "check_bucket_admits_only_the_distribution",
    ),
    "SourceArn condition removed": (
        _drop(_statement("AllowCloudFrontReadObjects"), "condition"),
        "check_bucket_admits_only_the_distribution",
    ),
    "SourceArn names another distribution": (
        _set(
            _statement("AllowCloudFrontListKeys"),
            "condition",
            [{"test": "StringEquals", "variable": "AWS:SourceArn", "values": [OTHER_DISTRIBUTION_ARN]}],
        ),
        "check_bucket_admits_only_the_distribution",
    ),
    "ListBucket dropped": (_drop_statement("AllowCloudFrontListKeys"), "check_bucket_admits_only_the_distribution"),
    "TLS deny dropped": (_drop_statement("DenyInsecureTransport"), "check_bucket_admits_only_the_distribution"),
    "another Allow statement": (_add_statement, "check_bucket_admits_only_the_distribution"),
    "public policies allowed": (
        _set(_public_access_block, "block_public_policy", False),
        "check_bucket_admits_only_the_distribution",
    ),
    # The API origin.
    "API origin over plain HTTP": (_set(_api_tls, "origin_protocol_policy", "http-only"), "check_api_origin"),
    "API origin accepts TLS 1.1": (_set(_api_tls, "origin_ssl_protocols", ["TLSv1.1", "TLSv1.2"]), "check_api_origin"),
    "API key as a literal": (
        _set(_origin(API_ORIGIN), "custom_header", [{"name": "x-api-key", "value": "abcdefghij0123456789"}]),
        "check_api_origin",
    ),
    "API key header dropped": (_drop(_origin(API_ORIGIN), "custom_header"), "check_api_origin"),
    "API origin skips the stage": (_set(_origin(API_ORIGIN), "origin_path", ""), "check_api_origin"),
    # Cache behaviours.
    "API responses cached": (
        _set(_api_behaviour, "cache_policy_id", CACHING_OPTIMIZED),
        "check_cache_behaviours",
    ),
    "default behaviour allows plain HTTP": (
        _set(_default_behaviour, "viewer_protocol_policy", "allow-all"),
        "check_cache_behaviours",
    ),
    "default behaviour accepts POST": (
        _set(_default_behaviour, "allowed_methods", ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]),
        "check_cache_behaviours",
    ),
    "API behaviour without the security headers": (
        _drop(_api_behaviour, "response_headers_policy_id"),
        "check_cache_behaviours",
    ),
    "API behaviour forwards Host": (
        _set(_api_behaviour, "origin_request_policy_id", "216adef6-5c7f-47e4-b989-5492eafa07d3"),
        "check_cache_behaviours",
    ),
    "legacy forwarded_values": (
        _set(_default_behaviour, "forwarded_values", {"query_string": True, "cookies": {"forward": "all"}}),
        "check_cache_behaviours",
    ),
    "an API path without a behaviour": (_drop_api_behaviour, "check_cache_behaviours"),
    # Distribution settings.
    "default root object changed": (
        _set(distribution, "default_root_object", "home.html"),
        "check_distribution_settings",
    ),
    "distribution disabled": (_set(distribution, "enabled", False), "check_distribution_settings"),
    "custom domain on the default certificate": (
        _set(distribution, "aliases", ["students.example.org"]),
        "check_distribution_settings",
    ),
    "every edge location": (_set(distribution, "price_class", "PriceClass_All"), "check_distribution_settings"),
    # The security headers.
    "CSP allows inline script": (
        _csp_replace("script-src 'self'", "script-src 'self' 'unsafe-inline'"),
        "check_security_headers_policy",
    ),
    "CSP lets the page connect anywhere over HTTPS": (
        _csp_replace("https://cognito-idp.us-east-1.amazonaws.com", "https:"),
        "check_security_headers_policy",
    ),
    "CSP loses Cognito: the page cannot sign in": (
        _csp_replace(" https://cognito-idp.us-east-1.amazonaws.com", ""),
        "check_page_sign_in",
    ),
    "CSP admits Cognito for scripts too": (
        _csp_replace("script-src 'self'", "script-src 'self' https://cognito-idp.us-east-1.amazonaws.com"),
        "check_security_headers_policy",
    ),
    "HSTS not overriding the origin": (
        _set(_header("strict_transport_security"), "override", False),
        "check_security_headers_policy",
    ),
    "HSTS without subdomains": (
        _set(_header("strict_transport_security"), "include_subdomains", False),
        "check_security_headers_policy",
    ),
    "frames allowed from the same origin": (
        _set(_header("frame_options"), "frame_option", "SAMEORIGIN"),
        "check_security_headers_policy",
    ),
    "Permissions-Policy dropped": (_drop(_headers_policy, "custom_headers_config"), "check_security_headers_policy"),
    # The uploaded objects.
    "stylesheet served as text/plain": (
        _set(_object("css-base-css"), "content_type", "text/plain"),
        "check_uploaded_objects",
    ),
    "index.html cached as immutable": (
        _set(_object("index-html"), "cache_control", "public, max-age=31536000, immutable"),
        "check_uploaded_objects",
    ),
    "script without its content hash": (_drop(_object("js-main-js"), "source_hash"), "check_uploaded_objects"),
    "page written before an asset": (_drop_page_dependency, "check_uploaded_objects"),
    "asset destroyed before its successor exists": (
        _drop(_object("favicon-svg"), "lifecycle"),
        "check_uploaded_objects",
    ),
    # The allowed origin.
    "a function allows every origin": (
        _set(_environment("read"), names.ENV_ALLOWED_ORIGIN, "*"),
        "check_allowed_origin",
    ),
    "a gateway error allows every origin": (
        _set(_gateway_response("default_4xx"), "gatewayresponse.header.Access-Control-Allow-Origin", "'*'"),
        "check_allowed_origin",
    ),
    "deployment ignores the origin": (_undigest("aws_api_gateway_integration_response"), "check_allowed_origin"),
    "site URL over plain HTTP": (_site_url_over_http, "check_allowed_origin"),
    "deployment ignores the staff pool": (_undigest("aws_api_gateway_authorizer"), "check_allowed_origin"),
    # Where the page signs staff in.
    "config.json names a hard-coded pool": (
        _config_json(lambda auth: auth.update(userPoolId="us-east-1_AbCdEf123")),
        "check_page_sign_in",
    ),
    "config.json names another region's endpoint": (
        _config_json(lambda auth: auth.update(endpoint="https://cognito-idp.eu-west-1.amazonaws.com/")),
        "check_page_sign_in",
    ),
    "config.json without its client": (_config_json(lambda auth: auth.pop("clientId")), "check_page_sign_in"),
    "config.json uploaded from a file": (
        _set(_object("config-json"), "source", "assets/website/config.json"),
        "check_uploaded_objects",
    ),
}


def test_every_check_has_a_mutation_it_catches() -> None:
    assert {check for _, check in MUTATIONS.values()} == set(CHECKS)


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_property_checks_catch_a_broken_requirement(synth: dict[str, Synth], mutation: str) -> None:
    mutate, check = MUTATIONS[mutation]
    assert_check_catches(synth["aws"].stack(APP), CHECKS[check], mutate)
