"""Staff sign-in in the synthesized JSON: the user pool, the page's client, the groups, and the API's authorizer.

Each check raises AssertionError when a stack breaks one requirement of staff
sign-in. The tests run every check on both targets' real synthesized JSON, and
on mutated copies of it to show each check catches the break it is named for.
The requirements are written here as values (a 14-character password, exactly
two auth flows), not read back from the construct: a change to them must be a
change to this file too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from config.settings import APP_STACK, AppConfig
from lambdas.common import names
from modules.functions import catalog as functions
from tests.conftest import TARGETS, Synth
from tests.synth_helpers import Doc, assert_check_catches, is_local, ref, resource, resources

APP = APP_STACK
STAFF = f"{APP}/staff"
POOL = f"{STAFF}/pool"
CLIENT = f"{STAFF}/page-client"
API = f"{APP}/api"
AUTHORIZER = f"{API}/staff-authorizer"
DEFAULTS = AppConfig()


def pool(stack: Doc) -> Doc:
    return resource(stack, "aws_cognito_user_pool", POOL)


def client(stack: Doc) -> Doc:
    return resource(stack, "aws_cognito_user_pool_client", CLIENT)


def methods(stack: Doc) -> dict[tuple[str, str], Doc]:
    """Every method of the API by (resource path, HTTP method)."""
    paths = {
        ref(stack, "aws_api_gateway_resource", path, "id"): "/" + body["path_part"]
        for path, body in resources(stack, "aws_api_gateway_resource").items()
    }
    found: dict[tuple[str, str], Doc] = {}
    for body in resources(stack, "aws_api_gateway_method").values():
        key = (paths[body["resource_id"]], body["http_method"])
        assert key not in found, f"{key} is declared twice"
        found[key] = body
    return found


# --- the checks -------------------------------------------------------------------


def check_every_method_requires_a_staff_token_and_the_key(stack: Doc) -> None:
    found = methods(stack)
    routed = {(route.path, route.method) for _, route in functions.routes()}
    assert {key for key in found if key[1] != "OPTIONS"} == routed
    authorizer_id = ref(stack, "aws_api_gateway_authorizer", AUTHORIZER, "id")
    for key, method in found.items():
        if key[1] == "OPTIONS":
            # Browsers send a preflight without credentials: it must answer without them.
            assert method["authorization"] == "NONE", key
            assert "authorizer_id" not in method, key
            assert method["api_key_required"] is False, key
        else:
            assert method["authorization"] == "COGNITO_USER_POOLS", key
            assert method.get("authorizer_id") == authorizer_id, key
            assert method["api_key_required"] is True, key
    assert list(resources(stack, "aws_api_gateway_authorizer")) == [AUTHORIZER]
    only = resource(stack, "aws_api_gateway_authorizer", AUTHORIZER)
    assert only["type"] == "COGNITO_USER_POOLS"
    assert only["provider_arns"] == [ref(stack, "aws_cognito_user_pool", POOL, "arn")]
    # The page sends its ID token in this header, as is.
    assert only["identity_source"] == "method.request.header.Authorization"
    assert only["rest_api_id"] == ref(stack, "aws_api_gateway_rest_api", f"{API}/api", "id")
    assert only["authorizer_result_ttl_in_seconds"] == 0


def check_password_policy(stack: Doc) -> None:
    policy = pool(stack)["password_policy"]
    assert policy.get("minimum_length", 0) >= 14
    for kind in ("lowercase", "uppercase", "numbers", "symbols"):
        assert policy.get(f"require_{kind}") is True, kind
    assert 1 <= policy.get("temporary_password_validity_days", 7) <= 3


def check_staff_are_invited_and_sign_in_by_e_mail(stack: Doc) -> None:
    found = pool(stack)
    assert found["name"] == DEFAULTS.staff_user_pool_name
    assert found["admin_create_user_config"]["allow_admin_create_user_only"] is True, "anyone may sign up"
    invitation = found["admin_create_user_config"]["invite_message_template"]
    assert "{username}" in invitation["email_message"] and "{####}" in invitation["email_message"]
    assert found.get("username_attributes") == ["email"]
    assert found.get("auto_verified_attributes") == ["email"]
    assert found.get("username_configuration") == {"case_sensitive": False}
    assert "alias_attributes" not in found
    # A forgotten password is reset through the verified address, never by SMS.
    assert found["account_recovery_setting"] == {"recovery_mechanism": [{"name": "verified_email", "priority": 1}]}


def check_page_client_is_public_with_exactly_the_pages_flows(stack: Doc) -> None:
    assert list(resources(stack, "aws_cognito_user_pool_client")) == [CLIENT], "one client: the page's"
    found = client(stack)
    assert found["user_pool_id"] == ref(stack, "aws_cognito_user_pool", POOL, "id")
    assert found["generate_secret"] is False, "a browser cannot keep a client secret"
    assert sorted(found["explicit_auth_flows"]) == ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH"]
    assert found["enable_token_revocation"] is True
    assert found["prevent_user_existence_errors"] == "ENABLED"
    assert found["supported_identity_providers"] == ["COGNITO"]
    for oauth in ("allowed_oauth_flows", "allowed_oauth_flows_user_pool_client", "callback_urls"):
        assert oauth not in found, oauth


def check_token_validities(stack: Doc) -> None:
    found = client(stack)
    assert found["token_validity_units"] == [
        {"id_token": "minutes", "access_token": "minutes", "refresh_token": "hours"}
    ]
    assert found["id_token_validity"] == found["access_token_validity"] == DEFAULTS.staff_token_validity_minutes == 15
    assert found["refresh_token_validity"] == DEFAULTS.staff_refresh_token_validity_hours == 12
    # The first sign-in's new password is chosen within this session (Cognito: 3-15 minutes).
    assert 5 <= found["auth_session_validity"] <= 15


def check_groups(stack: Doc) -> None:
    groups = {body["name"]: body for body in resources(stack, "aws_cognito_user_group").values()}
    assert set(groups) == {names.STAFF_GROUP, names.ADMIN_GROUP} == {"staff", "admin"}
    for name, group in groups.items():
        assert group["user_pool_id"] == ref(stack, "aws_cognito_user_pool", POOL, "id"), name
        # Groups here grant API rights through the token's claim, never an IAM role.
        assert "role_arn" not in group, name


def check_mfa_and_protection_by_target(stack: Doc) -> None:
    found = pool(stack)
    if is_local(stack):
        assert found["mfa_configuration"] == "OFF"
        assert "software_token_mfa_configuration" not in found
        assert found["deletion_protection"] == "INACTIVE"
    else:
        assert found["mfa_configuration"] == "OPTIONAL"
        assert found["software_token_mfa_configuration"] == {"enabled": True}
        assert found["deletion_protection"] == "ACTIVE", "the pool holds every staff account"
    # Never SMS (it needs an SNS role and costs per message), and no advanced security (billed per user).
    assert "sms_configuration" not in found
    assert "user_pool_add_ons" not in found


def check_outputs(stack: Doc) -> None:
    outputs = stack["output"]
    assert outputs[names.OUTPUT_STAFF_USER_POOL_ID] == {"value": ref(stack, "aws_cognito_user_pool", POOL, "id")}
    assert outputs[names.OUTPUT_STAFF_USER_POOL_CLIENT_ID] == {
        "value": ref(stack, "aws_cognito_user_pool_client", CLIENT, "id")
    }


CHECKS: dict[str, Callable[[Doc], None]] = {
    check.__name__: check
    for check in (
        check_every_method_requires_a_staff_token_and_the_key,
        check_password_policy,
        check_staff_are_invited_and_sign_in_by_e_mail,
        check_page_client_is_public_with_exactly_the_pages_flows,
        check_token_validities,
        check_groups,
        check_mfa_and_protection_by_target,
        check_outputs,
    )
}


@pytest.mark.parametrize(("target", "check"), [(target, check) for check in sorted(CHECKS) for target in TARGETS])
def test_staff_sign_in_requirement_holds(synth: dict[str, Synth], target: str, check: str) -> None:
    CHECKS[check](synth[target].stack(APP))


# --- mutations ------------------------------------------------------------------------

Mutation = Callable[[Doc], None]


def _set(locate: Callable[[Doc], Doc], key: str, value: object) -> Mutation:
    def mutate(stack: Doc) -> None:
        locate(stack)[key] = value

    return mutate


def _drop(locate: Callable[[Doc], Doc], key: str) -> Mutation:
    def mutate(stack: Doc) -> None:
        del locate(stack)[key]

    return mutate


def _method(path: str, verb: str) -> Callable[[Doc], Doc]:
    return lambda stack: methods(stack)[(path, verb)]


def _authorizer(stack: Doc) -> Doc:
    return resource(stack, "aws_api_gateway_authorizer", AUTHORIZER)


def _password(stack: Doc) -> Doc:
    return pool(stack)["password_policy"]


def _admin_create(stack: Doc) -> Doc:
    return pool(stack)["admin_create_user_config"]


def _drop_group(name: str) -> Mutation:
    def mutate(stack: Doc) -> None:
        groups = stack["resource"]["aws_cognito_user_group"]
        (address,) = [key for key, body in groups.items() if body["name"] == name]
        del groups[address]

    return mutate


def _add_resource(kind: str, body: dict[str, Any]) -> Mutation:
    def mutate(stack: Doc) -> None:
        stack["resource"].setdefault(kind, {})["extra"] = {"//": {"metadata": {"path": f"{APP}/extra"}}, **body}

    return mutate


def _mfa_off(stack: Doc) -> None:
    found = pool(stack)
    found["mfa_configuration"] = "OFF"
    found.pop("software_token_mfa_configuration", None)


OTHER_POOL_ARN = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Someone"
#: Mutation name → (the change, the check that must catch it). Applied to the aws target.
MUTATIONS: dict[str, tuple[Mutation, str]] = {
    # The API's methods and authorizer.
    "GET /students open to anyone with the key": (
        _set(_method("/students", "GET"), "authorization", "NONE"),
        "check_every_method_requires_a_staff_token_and_the_key",
    ),
    "POST /backup without its authorizer": (
        _drop(_method("/backup", "POST"), "authorizer_id"),
        "check_every_method_requires_a_staff_token_and_the_key",
    ),
    "POST /students without the key": (
        _set(_method("/students", "POST"), "api_key_required", False),
        "check_every_method_requires_a_staff_token_and_the_key",
    ),
    "GET /backup behind IAM instead": (
        _set(_method("/backup", "GET"), "authorization", "AWS_IAM"),
        "check_every_method_requires_a_staff_token_and_the_key",
    ),
    "preflight demands a token": (
        _set(_method("/students", "OPTIONS"), "authorization", "COGNITO_USER_POOLS"),
        "check_every_method_requires_a_staff_token_and_the_key",
    ),
    "authorizer trusts another pool": (
        _set(_authorizer, "provider_arns", [OTHER_POOL_ARN]),
        "check_every_method_requires_a_staff_token_and_the_key",
    ),
    "authorizer reads another header": (
        _set(_authorizer, "identity_source", "method.request.header.X-Token"),
        "check_every_method_requires_a_staff_token_and_the_key",
    ),
    "authorizer caches verdicts": (
        _set(_authorizer, "authorizer_result_ttl_in_seconds", 300),
        "check_every_method_requires_a_staff_token_and_the_key",
    ),
    # The password policy.
    "8-character passwords": (_set(_password, "minimum_length", 8), "check_password_policy"),
    "no symbol required": (_set(_password, "require_symbols", False), "check_password_policy"),
    "no upper case required": (_drop(_password, "require_uppercase"), "check_password_policy"),
    "temporary password valid a week": (
        _set(_password, "temporary_password_validity_days", 7),
        "check_password_policy",
    ),
    # Who gets an account, and how they sign in.
    "self sign-up": (
        _set(_admin_create, "allow_admin_create_user_only", False),
        "check_staff_are_invited_and_sign_in_by_e_mail",
    ),
    "sign-in by a chosen username": (
        _drop(pool, "username_attributes"),
        "check_staff_are_invited_and_sign_in_by_e_mail",
    ),
    "e-mail never verified": (
        _set(pool, "auto_verified_attributes", []),
        "check_staff_are_invited_and_sign_in_by_e_mail",
    ),
    "recovery by SMS first": (
        _set(
            pool,
            "account_recovery_setting",
            {
                "recovery_mechanism": [
                    {"name": "verified_phone_number", "priority": 1},
                    {"name": "verified_email", "priority": 2},
                ]
            },
        ),
        "check_staff_are_invited_and_sign_in_by_e_mail",
    ),
    # The page's client.
    "client with a secret": (
        _set(client, "generate_secret", True),
        "check_page_client_is_public_with_exactly_the_pages_flows",
    ),
    "admin password flow allowed": (
        _set(client, "explicit_auth_flows", ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]),
        "check_page_client_is_public_with_exactly_the_pages_flows",
    ),
    "SRP allowed as well": (
        _set(
            client,
            "explicit_auth_flows",
            ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"],
        ),
        "check_page_client_is_public_with_exactly_the_pages_flows",
    ),
    "refresh tokens not revocable": (
        _set(client, "enable_token_revocation", False),
        "check_page_client_is_public_with_exactly_the_pages_flows",
    ),
    "sign-in tells which addresses exist": (
        _set(client, "prevent_user_existence_errors", "LEGACY"),
        "check_page_client_is_public_with_exactly_the_pages_flows",
    ),
    "a second client": (
        _add_resource("aws_cognito_user_pool_client", {"name": "other", "user_pool_id": "x"}),
        "check_page_client_is_public_with_exactly_the_pages_flows",
    ),
    # Token lifetimes.
    "ID token valid a day": (_set(client, "id_token_validity", 1440), "check_token_validities"),
    "access token in hours": (
        _set(
            client, "token_validity_units", [{"id_token": "minutes", "access_token": "hours", "refresh_token": "hours"}]
        ),
        "check_token_validities",
    ),
    "refresh token valid 30 days": (_set(client, "refresh_token_validity", 720), "check_token_validities"),
    "3-minute challenge session": (_set(client, "auth_session_validity", 3), "check_token_validities"),
    # Groups.
    "no admin group": (_drop_group("admin"), "check_groups"),
    "an extra group": (
        _add_resource("aws_cognito_user_group", {"name": "guests", "user_pool_id": "x"}),
        "check_groups",
    ),
    # MFA and the pool's protection.
    "MFA off in AWS": (_mfa_off, "check_mfa_and_protection_by_target"),
    "MFA by SMS": (
        _set(pool, "sms_configuration", {"external_id": "x", "sns_caller_arn": "y"}),
        "check_mfa_and_protection_by_target",
    ),
    "pool deletable in AWS": (_set(pool, "deletion_protection", "INACTIVE"), "check_mfa_and_protection_by_target"),
    "advanced security enforced": (
        _set(pool, "user_pool_add_ons", {"advanced_security_mode": "ENFORCED"}),
        "check_mfa_and_protection_by_target",
    ),
    # Outputs.
    "client id output names the pool": (
        _set(
            lambda stack: stack["output"],
            names.OUTPUT_STAFF_USER_POOL_CLIENT_ID,
            {"value": "${aws_cognito_user_pool.x.id}"},
        ),
        "check_outputs",
    ),
}


def test_every_check_has_a_mutation_it_catches() -> None:
    assert {check for _, check in MUTATIONS.values()} == set(CHECKS)


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_property_checks_catch_a_broken_requirement(synth: dict[str, Synth], mutation: str) -> None:
    mutate, check = MUTATIONS[mutation]
    assert_check_catches(synth["aws"].stack(APP), CHECKS[check], mutate)
