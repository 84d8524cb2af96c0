"""Items as DynamoDB JSON lines, the format of DynamoDB's own export to S3, and back.

Each line is one item, ``{"Item": {...}}``, with every attribute written as
its typed attribute value (``{"N": "12345678901234567.89"}``,
``{"B": "<base64>"}``, ``{"SS": [...]}``, ``{"NULL": true}``), exactly as
``ExportTableToPointInTime`` writes with ``ExportFormat=DYNAMODB_JSON``. Nothing
is converted on the way: numbers stay decimal text with all 38 digits, binary
stays bytes (base64 on the line), sets stay sets, so a restore puts back the
very item that was read. The backup writes these lines; ``ops/restore.py``
reads them.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any, Final

#: Attribute-value types whose value is binary (base64 on the line, bytes in the client).
_BINARY: Final = "B"
_BINARY_SET: Final = "BS"
_STRING_TYPES: Final = frozenset({"S", "N"})
_STRING_SET_TYPES: Final = frozenset({"SS", "NS"})
TYPES: Final = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"})


class FormatError(ValueError):
    """A line is not a DynamoDB JSON item."""


def item_line(item: Mapping[str, Any]) -> bytes:
    """One low-level item (as the DynamoDB client returns it) as a DynamoDB JSON line of UTF-8, with its newline.

    Text stays readable (Vietnamese names can be grepped), as in DynamoDB's
    own export. A string that UTF-8 cannot encode (an unpaired surrogate,
    which another writer's client may have stored) is written as a JSON
    ``\\u`` escape instead, so every item can be written and reads back the same.
    """
    document = {"Item": {name: _encode(value) for name, value in item.items()}}
    try:
        return (json.dumps(document, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(document, separators=(",", ":"), ensure_ascii=True) + "\n").encode("ascii")


def parse_line(line: str | bytes) -> dict[str, Any]:
    """The low-level item of one DynamoDB JSON line, ready for ``PutItem`` (binary as bytes)."""
    try:
        document = json.loads(line)
    except ValueError as error:
        raise FormatError(f"not JSON: {error}") from None
    if not isinstance(document, dict) or set(document) != {"Item"} or not isinstance(document["Item"], dict):
        raise FormatError('expected an object {"Item": {...}}')
    return {str(name): _decode(value, path=str(name)) for name, value in document["Item"].items()}


def _encode(value: Mapping[str, Any]) -> dict[str, Any]:
    [(kind, inner)] = value.items()
    if kind == _BINARY:
        return {kind: _b64(inner)}
    if kind == _BINARY_SET:
        return {kind: [_b64(member) for member in inner]}
    if kind == "M":
        return {kind: {name: _encode(member) for name, member in inner.items()}}
    if kind == "L":
        return {kind: [_encode(member) for member in inner]}
    return {kind: list(inner) if kind in _STRING_SET_TYPES else inner}


def _decode(value: object, *, path: str) -> dict[str, Any]:
    if not isinstance(value, dict) or len(value) != 1:
        raise FormatError(f'{path}: expected one typed attribute value, e.g. {{"S": "..."}}')
    [(kind, inner)] = value.items()
    if kind not in TYPES:
        raise FormatError(f"{path}: unknown attribute type {kind!r}")
    if kind in _STRING_TYPES:
        return {kind: _expect(inner, str, path)}
    if kind == "BOOL":
        return {kind: _expect(inner, bool, path)}
    if kind == "NULL":
        if inner is not True:
            raise FormatError(f"{path}: NULL must be true")
        return {kind: True}
    if kind == _BINARY:
        return {kind: _unb64(inner, path)}
    if kind == _BINARY_SET:
        return {kind: [_unb64(member, path) for member in _expect(inner, list, path)]}
    if kind in _STRING_SET_TYPES:
        return {kind: [_expect(member, str, path) for member in _expect(inner, list, path)]}
    if kind == "M":
        members = _expect(inner, dict, path)
        return {kind: {name: _decode(member, path=f"{path}.{name}") for name, member in members.items()}}
    return {kind: [_decode(member, path=f"{path}[{i}]") for i, member in enumerate(_expect(inner, list, path))]}


def _expect(value: Any, kind: type, path: str) -> Any:
    if not isinstance(value, kind):
        raise FormatError(f"{path}: expected {kind.__name__}, got {type(value).__name__}")
    return value


def _b64(value: bytes | bytearray) -> str:
    return base64.b64encode(bytes(value)).decode("ascii")


def _unb64(value: object, path: str) -> bytes:
    try:
        return base64.b64decode(_expect(value, str, path), validate=True)
    except binascii.Error:
        raise FormatError(f"{path}: binary value is not base64") from None
