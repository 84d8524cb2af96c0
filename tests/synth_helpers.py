"""Reading synthesized stacks the way a reviewer does: by construct path."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.conftest import ROOT, EmulatorSettings, Synth, copy_stack, run, tool_env

Doc = dict[str, Any]


def resources(stack: Doc, kind: str) -> dict[str, Doc]:
    """Every resource of one type, keyed by its construct path (``stack/students/table``)."""
    found = {}
    for body in stack.get("resource", {}).get(kind, {}).values():
        found[body["//"]["metadata"]["path"]] = body
    return found


def resource(stack: Doc, kind: str, path: str) -> Doc:
    matches = resources(stack, kind)
    assert path in matches, f"no {kind} at {path}; have {sorted(matches)}"
    return matches[path]


def data_sources(stack: Doc, kind: str) -> dict[str, Doc]:
    found = {}
    for body in stack.get("data", {}).get(kind, {}).values():
        found[body["//"]["metadata"]["path"]] = body
    return found


def address(stack: Doc, kind: str, path: str, *, data: bool = False) -> str:
    """The Terraform address of the resource (or data source) at a construct path."""
    section = stack.get("data" if data else "resource", {}).get(kind, {})
    for name, body in section.items():
        if body["//"]["metadata"]["path"] == path:
            return f"{'data.' if data else ''}{kind}.{name}"
    raise AssertionError(f"no {kind} at {path}")


def ref(stack: Doc, kind: str, path: str, attribute: str, *, data: bool = False) -> str:
    """The Terraform expression that refers to an attribute of a resource."""
    return "${" + address(stack, kind, path, data=data) + "." + attribute + "}"


#: What the stage serves from its deployment's snapshot: every resource of these types is digested by
#: the deployment's triggers (``student_api.served_triggers``).
API_SHAPING_TYPES = (
    "aws_api_gateway_authorizer",
    "aws_api_gateway_gateway_response",
    "aws_api_gateway_integration",
    "aws_api_gateway_integration_response",
    "aws_api_gateway_method",
    "aws_api_gateway_method_response",
    "aws_api_gateway_model",
    "aws_api_gateway_request_validator",
)


def api_shaping(stack: Doc, *, without: str | None = None) -> dict[str, Doc]:
    """Every resource of the stack whose change is served only by a new deployment, by address."""
    return {
        f"{kind}.{name}": config
        for kind in API_SHAPING_TYPES
        if kind != without
        for name, config in stack["resource"].get(kind, {}).items()
    }


def served_digest(stack: Doc, *, without: str | None = None) -> str:
    """The ``served`` trigger the synthesized API resources call for: a SHA-256 of their whole configuration."""
    return hashlib.sha256(json.dumps(api_shaping(stack, without=without), sort_keys=True).encode()).hexdigest()


def referenced(deployment: Doc) -> list[str]:
    """The references whose values Terraform hashes into the ``references`` trigger."""
    match = re.fullmatch(r"\$\{sha1\(jsonencode\(\[(.*)\]\)\)\}", deployment["triggers"]["references"])
    assert match is not None, deployment["triggers"]
    return match.group(1).split(", ")


def policy_statements(stack: Doc, path: str) -> dict[str, Doc]:
    """The statements of the typed policy document at a construct path, by Sid."""
    document = data_sources(stack, "aws_iam_policy_document")[path]
    return {statement.get("sid", ""): statement for statement in document["statement"]}


def walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


_ASSET_HASH = re.compile(r"(?<=/)[0-9A-F]{32}(?=/)")


_FINGERPRINT = re.compile(r"([\w-]+)\.[0-9a-f]{12}\.")
_SOURCE_HASH = re.compile(r'("source_hash": )"[0-9a-f]{64}"')


def normalise(stack: Doc, emulator: EmulatorSettings | None) -> Doc:
    """A stack with machine- and build-specific values replaced by placeholders.

    Absolute paths (the project, the emulator's temporary state directory),
    the emulator's random port, the cdktf version and asset hashes change
    between machines and builds, not between meanings.
    """
    text = json.dumps(stack, sort_keys=True)
    if emulator is not None:
        text = text.replace(str(emulator.state_dir), "<EMULATOR_STATE_DIR>")
        text = text.replace(f"127.0.0.1:{emulator.port}", "127.0.0.1:<EMULATOR_PORT>")
    text = text.replace(str(ROOT), "<PROJECT_ROOT>")
    text = _ASSET_HASH.sub("<ASSET_HASH>", text)
    # The page's files: a content hash in each asset's name and in every object's source_hash.
    text = _FINGERPRINT.sub(r"\1.<CONTENT_HASH>.", text)
    text = _SOURCE_HASH.sub(r'\1"<CONTENT_HASH>"', text)
    normalised: Doc = json.loads(text)
    normalised["//"]["metadata"]["version"] = "<CDKTF_VERSION>"
    return normalised


#: The local system serves the page here (``site_port``'s default), so the API admits this origin locally.
LOCAL_ORIGIN = "http://localhost:8000"


def is_local(stack: Doc) -> bool:
    """Whether the stack was synthesized for the emulator: only then is the provider routed elsewhere."""
    return bool(stack["provider"]["aws"][0].get("endpoints"))


def site_origin(stack: Doc) -> str:
    """The origin the API must admit: the distribution's domain on AWS, the local system's locally."""
    if is_local(stack):
        return LOCAL_ORIGIN
    distribution = "student-management/website/distribution"
    return f"https://{ref(stack, 'aws_cloudfront_distribution', distribution, 'domain_name')}"


def assert_check_catches(stack: Doc, check: Callable[[Doc], None], mutate: Callable[[Doc], None]) -> None:
    """``check`` passes on a copy of ``stack``, and fails once ``mutate`` broke the copy."""
    broken = copy.deepcopy(stack)
    check(broken)
    mutate(broken)
    try:
        check(broken)
    except AssertionError:
        return
    raise AssertionError(f"{check.__name__} did not notice {mutate.__name__}")


def assert_valid_terraform(synthesized: Synth, stack: str, workdir: Path) -> None:
    """``terraform validate`` of a copy of the stack, offline, with the real provider: no error, no warning."""
    directory = copy_stack(synthesized, stack, workdir)
    env = tool_env()
    init = run(["terraform", "init", "-backend=false", "-input=false", "-no-color"], cwd=directory, env=env)
    assert init.returncode == 0, init.stdout + init.stderr
    validate = run(["terraform", "validate", "-json", "-no-color"], cwd=directory, env=env)
    result = json.loads(validate.stdout)
    assert result["valid"] is True, result["diagnostics"]
    assert result["error_count"] == 0
    assert result["warning_count"] == 0, result["diagnostics"]
