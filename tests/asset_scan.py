"""What must never be in the page's files: the API key, its header, the API's host, an account, another host.

``findings`` reads one file's text and names every such thing in it. The
tests run it over ``frontend/``, over the objects the synthesized stack
uploads, and over the objects the emulator's website bucket holds (where the
deployed key's value and the account id are known).
"""

from __future__ import annotations

import re
from typing import Final

#: Namespace names are identifiers, never fetched: the one http URL an SVG must carry.
_NAMESPACES: Final = ("http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink")
_RULES: Final = (
    ("the API key header", re.compile(r"x-api-key", re.IGNORECASE)),
    ("an execute-api host", re.compile(r"execute-api", re.IGNORECASE)),
    ("a cloudfront host", re.compile(r"\.cloudfront\.net", re.IGNORECASE)),
    # Twelve digits standing alone; a fingerprint (``.<12 hex>.``) is not one.
    ("an AWS account id", re.compile(r"(?<![\w.])[0-9]{12}(?![\w.])")),
    ("an external URL", re.compile(r"\b(?:https?|wss?|ftp):/{0,2}[^\s\"'<>)]*", re.IGNORECASE)),
    (
        "a protocol-relative reference",
        re.compile(r"(?:src|href|action)\s*=\s*[\"']?//|url\(\s*[\"']?//", re.IGNORECASE),
    ),
    ("a CSS import", re.compile(r"@import", re.IGNORECASE)),
    ("a data: URL", re.compile(r"\bdata:[a-z]+/", re.IGNORECASE)),
)


def findings(name: str, text: str, *, secrets: tuple[str, ...] = ()) -> list[str]:
    """Each forbidden thing in ``text`` (from the file ``name``), as ``"<name>: <what> '<match>'"``."""
    found = [f"{name}: a deployed secret or account value" for secret in secrets if secret and secret in text]
    scanned = text
    if name.endswith(".svg"):
        for namespace in _NAMESPACES:
            scanned = scanned.replace(namespace, "")
    for what, pattern in _RULES:
        found += [f"{name}: {what} '{match.group(0)[:60]}'" for match in pattern.finditer(scanned)]
    return found
