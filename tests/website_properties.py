"""The website's requirements (tutorial sections 5, 6.1-6.4, 7.1-7.3), as checks over a synthesized stack.

Each check raises AssertionError when the stack breaks one requirement. The
tests run them on the real synthesized JSON of both targets, and on mutated
copies to prove each check catches the break it is named for. The expected
values come from the modules the website is built from (``site_headers``,
``site_assets``, ``api_routes``, the function table), never from a copy.
"""

from __future__ import annotations

import functools
import json
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from config.settings import APP_STACK, LOCAL_COGNITO_PATH, cognito_endpoint, cognito_origin
from lambdas.common import names
from modules.api import routes as api_routes
from modules.functions import catalog as functions
from modules.site import assets as site_assets
from modules.site import headers as site_headers
from modules.site.website import (
    ALL_METHODS,
    ALL_VIEWER_EXCEPT_HOST_HEADER,
    API_KEY_HEADER,
    API_ORIGIN,
    CACHING_DISABLED,
    CACHING_OPTIMIZED,
    DEFAULT_CERTIFICATE_TLS,
    DISTRIBUTION_NAME,
    MANAGED_SECURITY_HEADERS,
    MODERN_TLS,
    READ_METHODS,
    S3_ORIGIN,
)
from tests.synth_helpers import (
    Doc,
    address,
    is_local,
    policy_statements,
    ref,
    referenced,
    resource,
    resources,
    served_digest,
    site_origin,
)

#: Construct paths of the checked resources start with the application stack's name.
APP = APP_STACK
WEBSITE = f"{APP}/website"
BUCKET = f"{WEBSITE}/bucket"
OAC = f"{WEBSITE}/origin-access-control"
HEADERS_POLICY = f"{WEBSITE}/security-headers"
DISTRIBUTION = f"{WEBSITE}/distribution"
API = f"{APP}/api"
API_KEY = f"{API}/key"
STAFF = f"{APP}/staff"
BUCKET_NAME = "student-management-website-2025"
#: A fingerprinted asset's key: its folder and name, the first 12 hex digits of its SHA-256, its extension.
FINGERPRINTED = re.compile(r"^(?:[\w-]+/)*[\w-]+\.[0-9a-f]{12}\.[a-z]+$")
#: ``(header, value, override)`` as CloudFront adds it to a response.
Header = tuple[str, str, bool]


def distribution(stack: Doc) -> Doc:
    return resource(stack, "aws_cloudfront_distribution", DISTRIBUTION)


def origins(stack: Doc) -> dict[str, Doc]:
    """The distribution's origins by id (a repeated id would hide one: refused)."""
    found = {origin["origin_id"]: origin for origin in distribution(stack)["origin"]}
    assert len(found) == len(distribution(stack)["origin"]), "two origins share an id"
    return found


def behaviours(stack: Doc) -> list[Doc]:
    """The default cache behaviour, then the ordered ones."""
    dist = distribution(stack)
    return [dist["default_cache_behavior"], *dist.get("ordered_cache_behavior", [])]


def api_paths() -> list[str]:
    """The REST API's resource paths, from the function table the API and the distribution are built from."""
    return list(api_routes.paths(route for _, route in functions.routes()))


@functools.cache
def built_site() -> tuple[site_assets.SiteObject, ...]:
    """What ``build_site`` makes of ``frontend/`` (with the runtime config the application stack passes), built once."""
    with tempfile.TemporaryDirectory(prefix="website-check-") as out_dir:
        site = site_assets.build_site(Path(out_dir) / "site", config=site_assets.runtime_config(functions.FUNCTIONS))
    return tuple(site)


def served_headers(policy: Doc) -> list[Header]:
    """A response-headers policy as the headers a browser receives (``nosniff`` is the only value CloudFront sends)."""
    config = policy["security_headers_config"]
    served: list[Header] = []
    if csp := config.get("content_security_policy"):
        served.append(("Content-Security-Policy", csp["content_security_policy"], csp["override"]))
    if hsts := config.get("strict_transport_security"):
        value = f"max-age={hsts['access_control_max_age_sec']}"
        value += "; includeSubDomains" if hsts.get("include_subdomains") else ""
        value += "; preload" if hsts.get("preload") else ""
        served.append(("Strict-Transport-Security", value, hsts["override"]))
    if nosniff := config.get("content_type_options"):
        served.append(("X-Content-Type-Options", "nosniff", nosniff["override"]))
    if frame := config.get("frame_options"):
        served.append(("X-Frame-Options", frame["frame_option"], frame["override"]))
    if referrer := config.get("referrer_policy"):
        served.append(("Referrer-Policy", referrer["referrer_policy"], referrer["override"]))
    for item in policy.get("custom_headers_config", {}).get("items", []):
        served.append((item["header"], item["value"], item["override"]))
    return served


def check_origin_access_control(stack: Doc) -> None:
    oac = resource(stack, "aws_cloudfront_origin_access_control", OAC)
    assert oac["signing_behavior"] == "always"
    assert oac["signing_protocol"] == "sigv4"
    assert oac["origin_access_control_origin_type"] == "s3"
    bucket_origin = origins(stack)[S3_ORIGIN]
    assert bucket_origin["origin_access_control_id"] == ref(stack, "aws_cloudfront_origin_access_control", OAC, "id")
    assert bucket_origin["domain_name"] == ref(
        stack, "aws_s3_bucket", f"{BUCKET}/bucket", "bucket_regional_domain_name"
    )
    for origin in origins(stack).values():
        assert "s3_origin_config" not in origin, f"origin {origin['origin_id']} uses a legacy origin access identity"
    assert not stack["resource"].get("aws_cloudfront_origin_access_identity")


def check_bucket_admits_only_the_distribution(stack: Doc) -> None:
    assert resource(stack, "aws_s3_bucket", f"{BUCKET}/bucket")["bucket"] == BUCKET_NAME
    policy = resource(stack, "aws_s3_bucket_policy", f"{BUCKET}/policy")
    assert policy["policy"] == ref(stack, "aws_iam_policy_document", f"{BUCKET}/policy-document", "json", data=True)
    statements = policy_statements(stack, f"{BUCKET}/policy-document")
    arn = ref(stack, "aws_s3_bucket", f"{BUCKET}/bucket", "arn")
    allowed = {
        "AllowCloudFrontReadObjects": ("s3:GetObject", f"{arn}/*"),
        "AllowCloudFrontListKeys": ("s3:ListBucket", arn),
    }
    assert {sid for sid, s in statements.items() if s["effect"] == "Allow"} == set(allowed)
    source_arn = ref(stack, "aws_cloudfront_distribution", DISTRIBUTION, "arn")
    for sid, (action, target) in allowed.items():
        statement = statements[sid]
        assert statement["actions"] == [action], sid
        assert statement["resources"] == [target], sid
        assert statement["principals"] == [{"type": "Service", "identifiers": ["cloudfront.amazonaws.com"]}], sid
        assert statement.get("condition") == [
            {"test": "StringEquals", "variable": "AWS:SourceArn", "values": [source_arn]}
        ], sid
    assert "DenyInsecureTransport" in statements, "the bucket admits plain HTTP"
    assert statements["DenyInsecureTransport"]["effect"] == "Deny"
    assert statements["DenyInsecureTransport"].get("condition") == [
        {"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}
    ]
    block = resource(stack, "aws_s3_bucket_public_access_block", f"{BUCKET}/public-access-block")
    for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
        assert block[flag] is True, flag
    ownership = resource(stack, "aws_s3_bucket_ownership_controls", f"{BUCKET}/ownership")
    assert ownership["rule"] == {"object_ownership": "BucketOwnerEnforced"}


def check_api_origin(stack: Doc) -> None:
    found = origins(stack)
    assert set(found) == {S3_ORIGIN, API_ORIGIN}
    api = found[API_ORIGIN]
    region = stack["provider"]["aws"][0]["region"]
    api_id = ref(stack, "aws_api_gateway_rest_api", f"{API}/api", "id")
    assert api["domain_name"] == f"{api_id}.execute-api.{region}.amazonaws.com"
    assert api["origin_path"] == "/prod"
    config = api["custom_origin_config"]
    assert config["origin_protocol_policy"] == "https-only"
    assert config["origin_ssl_protocols"] == ["TLSv1.2"]
    # The key's value is the key resource's, known only after apply: never a literal in the JSON.
    key = ref(stack, "aws_api_gateway_api_key", API_KEY, "value")
    assert api.get("custom_header") == [{"name": API_KEY_HEADER, "value": key}]


def check_cache_behaviours(stack: Doc) -> None:
    default = distribution(stack)["default_cache_behavior"]
    assert default["target_origin_id"] == S3_ORIGIN
    assert default["allowed_methods"] == list(READ_METHODS)
    assert default["cached_methods"] == list(READ_METHODS)
    assert default["compress"] is True
    assert default["viewer_protocol_policy"] == "redirect-to-https"
    assert default["cache_policy_id"] == CACHING_OPTIMIZED
    ordered = distribution(stack).get("ordered_cache_behavior", [])
    assert [behaviour["path_pattern"] for behaviour in ordered] == api_paths()
    for behaviour in ordered:
        path = behaviour["path_pattern"]
        assert behaviour["target_origin_id"] == API_ORIGIN, path
        assert behaviour["allowed_methods"] == list(ALL_METHODS), path
        assert behaviour["cached_methods"] == list(READ_METHODS), path
        assert behaviour["cache_policy_id"] == CACHING_DISABLED, path
        assert behaviour["origin_request_policy_id"] == ALL_VIEWER_EXCEPT_HOST_HEADER, path
        assert behaviour["viewer_protocol_policy"] == "https-only", path
    if is_local(stack):
        headers_policy = MANAGED_SECURITY_HEADERS
    else:
        headers_policy = ref(stack, "aws_cloudfront_response_headers_policy", HEADERS_POLICY, "id")
    for behaviour in behaviours(stack):
        where = behaviour.get("path_pattern", "default")
        assert "forwarded_values" not in behaviour, where
        assert behaviour.get("response_headers_policy_id") == headers_policy, where


def check_distribution_settings(stack: Doc) -> None:
    dist = distribution(stack)
    assert dist["default_root_object"] == site_assets.INDEX == "index.html"
    assert dist["enabled"] is True
    assert dist["comment"] == DISTRIBUTION_NAME == "StudentWebsiteDistribution"
    assert dist["http_version"] == "http2and3"
    assert dist["price_class"] == "PriceClass_200"
    certificate = dist["viewer_certificate"]
    if dist.get("aliases"):
        assert certificate.get("acm_certificate_arn"), "a custom domain is served on its own certificate"
        assert certificate.get("ssl_support_method") == "sni-only"
        assert certificate.get("minimum_protocol_version") == MODERN_TLS
        assert not certificate.get("cloudfront_default_certificate")
    else:
        # CloudFront's own *.cloudfront.net certificate accepts no other TLS floor.
        assert certificate == {
            "cloudfront_default_certificate": True,
            "minimum_protocol_version": DEFAULT_CERTIFICATE_TLS,
        }


def check_security_headers_policy(stack: Doc) -> None:
    policy = resource(stack, "aws_cloudfront_response_headers_policy", HEADERS_POLICY)
    served = served_headers(policy)
    assert len({name for name, _, _ in served}) == len(served), f"a header is set twice: {served}"
    # The page signs staff in at its region's Cognito endpoint: connect-src admits it, nothing else changes.
    cognito = cognito_origin(stack["provider"]["aws"][0]["region"])
    expected = site_headers.security_headers(connect_to=[cognito])
    assert sorted(served) == sorted((name, value, True) for name, value in expected.items())
    csp = {name: value for name, value, _ in served}["Content-Security-Policy"]
    directives = dict(directive.strip().split(" ", 1) for directive in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["connect-src"] == f"'self' {cognito}"
    assert {name: value for name, value in directives.items() if name != "connect-src"} == {
        name: value for name, value in site_headers.CONTENT_SECURITY_POLICY_DIRECTIVES if name != "connect-src"
    }
    for unsafe in ("'unsafe-inline'", "'unsafe-eval'"):
        assert unsafe not in csp, unsafe


def uploaded_objects(stack: Doc) -> dict[str, tuple[str, Doc]]:
    """The website bucket's objects by key: each one's Terraform address and body."""
    return {
        body["key"]: (f"aws_s3_object.{name}", body)
        for name, body in stack["resource"].get("aws_s3_object", {}).items()
        if body["//"]["metadata"]["path"].startswith(f"{WEBSITE}/")
    }


def check_uploaded_objects(stack: Doc) -> None:
    site = built_site()
    found = uploaded_objects(stack)
    assert sorted(found) == sorted(item.key for item in site)
    bucket = ref(stack, "aws_s3_bucket", f"{BUCKET}/bucket", "id")
    for item in site:
        _, body = found[item.key]
        assert body["bucket"] == bucket, item.key
        assert body["content_type"] == item.content_type == site_assets.CONTENT_TYPES[Path(item.key).suffix]
        assert body["cache_control"] == item.cache_control, item.key
        if item.key == site_assets.RUNTIME_CONFIG:
            # Written from its text, which names the staff pool and client (check_page_sign_in).
            assert "source" not in body and "source_hash" not in body, item.key
            assert set(json.loads(body["content"])) == {*json.loads(str(item.text)), "auth"}, item.key
        else:
            assert body.get("source_hash") == item.sha256, item.key
            assert body["source"].endswith(f"/{item.key}"), item.key
            assert "content" not in body, item.key
        assert body.get("lifecycle") == {"create_before_destroy": True}, item.key
        revalidated = item.key in (site_assets.INDEX, site_assets.RUNTIME_CONFIG)
        assert item.cache_control == (site_assets.REVALIDATE if revalidated else site_assets.IMMUTABLE), item.key
        if Path(item.key).suffix in (".css", ".js"):
            assert FINGERPRINTED.match(item.key), item.key
    # Every object is written once the bucket's versioning is on (an unversioned
    # object could not be cleanly deleted at teardown); the page names the
    # fingerprinted keys, so it is written only once every other object exists.
    versioning = address(stack, "aws_s3_bucket_versioning", f"{BUCKET}/versioning")
    _, page = found[site_assets.INDEX]
    others = sorted(address for key, (address, _) in found.items() if key != site_assets.INDEX)
    assert sorted(page.get("depends_on", [])) == sorted([versioning, *others])
    for key, (_, body) in found.items():
        if key != site_assets.INDEX:
            assert body.get("depends_on") == [versioning], key


def check_allowed_origin(stack: Doc) -> None:
    origin = site_origin(stack)
    lambdas = resources(stack, "aws_lambda_function")
    assert len(lambdas) == len(functions.FUNCTIONS)
    for path, function in lambdas.items():
        assert function["environment"]["variables"][names.ENV_ALLOWED_ORIGIN] == origin, path
    for path in api_paths():
        name = f"options{path.replace('/', '-')}-integration-response"
        answer = resource(stack, "aws_api_gateway_integration_response", f"{API}/{name}")
        assert answer["response_parameters"]["method.response.header.Access-Control-Allow-Origin"] == f"'{origin}'"
    for response_type in api_routes.GATEWAY_RESPONSES:
        response = resource(stack, "aws_api_gateway_gateway_response", f"{API}/gateway-{response_type.lower()}")
        assert response["response_parameters"]["gatewayresponse.header.Access-Control-Allow-Origin"] == f"'{origin}'"
    # The deployment must follow the origin and the pool: the CORS answers and the authorizer are digested as
    # synthesized, and the values they refer to that are known only after apply are hashed by Terraform.
    triggers = resource(stack, "aws_api_gateway_deployment", f"{API}/deployment")["triggers"]
    assert triggers["served"] == served_digest(stack)
    follows = referenced({"triggers": triggers})
    pool = ref(stack, "aws_cognito_user_pool", f"{STAFF}/pool", "arn")
    assert pool[2:-1] in follows
    for expression in re.findall(r"\$\{([^}]*)\}", origin):  # the distribution's domain (aws)
        assert expression in follows, expression
    domain = ref(stack, "aws_cloudfront_distribution", DISTRIBUTION, "domain_name")
    assert stack["output"][names.OUTPUT_SITE_URL] == {"value": f"https://{domain}"}


def check_page_sign_in(stack: Doc) -> None:
    """config.json tells the page where staff sign in: this stack's pool and client, at its Cognito endpoint."""
    _, body = uploaded_objects(stack)[site_assets.RUNTIME_CONFIG]
    region = stack["provider"]["aws"][0]["region"]
    # Locally the page calls a path of its own origin, which the local edge forwards to the emulator.
    endpoint = LOCAL_COGNITO_PATH if is_local(stack) else cognito_endpoint(region)
    sign_in = site_assets.StaffSignIn(
        region=region,
        user_pool_id=ref(stack, "aws_cognito_user_pool", f"{STAFF}/pool", "id"),
        client_id=ref(stack, "aws_cognito_user_pool_client", f"{STAFF}/page-client", "id"),
        endpoint=endpoint,
    )
    assert body["content"] == site_assets.config_text(site_assets.runtime_config(functions.FUNCTIONS, sign_in=sign_in))
    assert body["cache_control"] == site_assets.REVALIDATE
    if not is_local(stack):
        policy = resource(stack, "aws_cloudfront_response_headers_policy", HEADERS_POLICY)
        csp = {name: value for name, value, _ in served_headers(policy)}["Content-Security-Policy"]
        assert f"connect-src 'self' {cognito_origin(region)};" in csp, "the page may not call Cognito"


CHECKS: dict[str, Callable[[Doc], None]] = {
    check.__name__: check
    for check in (
        check_origin_access_control,
        check_bucket_admits_only_the_distribution,
        check_api_origin,
        check_cache_behaviours,
        check_distribution_settings,
        check_security_headers_policy,
        check_uploaded_objects,
        check_allowed_origin,
        check_page_sign_in,
    )
}
#: Checks of what only one target has; the others hold on both.
ONLY_ON: dict[str, str] = {
    # The emulator cannot create a response-headers policy (check_cache_behaviours checks its stand-in).
    check_security_headers_policy.__name__: "aws",
}
