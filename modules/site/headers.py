"""The security headers every response of the website carries: one source.

The aws target's CloudFront response-headers policy (``modules/site/website.py``)
is built from these values, and anything that serves the page elsewhere (the
browser tests, the local system) sends the same ones, so the page is always
exercised under the policy it meets in production. Standard library only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

#: Everything the page loads comes from its own origin: no inline script or
#: style, no framework from a CDN, no third-party request of any kind but the
#: sign-in's (``content_security_policy``'s ``connect_to``).
CONTENT_SECURITY_POLICY_DIRECTIVES: Final = (
    ("default-src", "'self'"),
    ("script-src", "'self'"),
    ("style-src", "'self'"),
    ("img-src", "'self'"),
    ("font-src", "'self'"),
    ("connect-src", "'self'"),
    ("manifest-src", "'self'"),
    ("object-src", "'none'"),
    ("base-uri", "'none'"),
    ("form-action", "'self'"),
    ("frame-ancestors", "'none'"),
)


def content_security_policy(*, connect_to: Sequence[str] = ()) -> str:
    """The policy, with ``connect_to`` origins added to ``connect-src`` only.

    The page may then ``fetch`` those origins (the AWS target's Cognito endpoint,
    where staff sign in) and still load nothing from anywhere but its own.
    """
    directives = []
    for name, value in CONTENT_SECURITY_POLICY_DIRECTIVES:
        sources = (value, *connect_to) if name == "connect-src" else (value,)
        directives.append(f"{name} {' '.join(sources)}")
    return "; ".join(directives)


#: The policy of a page whose every request stays on its own origin (the local
#: system, whose Cognito calls go through a path of the site's origin).
CONTENT_SECURITY_POLICY: Final = content_security_policy()

#: Two years, subdomains included. No ``preload``: that is a promise about a
#: domain the project does not own (``*.cloudfront.net``).
HSTS_MAX_AGE_SECONDS: Final = 63_072_000
STRICT_TRANSPORT_SECURITY: Final = f"max-age={HSTS_MAX_AGE_SECONDS}; includeSubDomains"
#: The page needs no powerful browser feature: deny each one it could be tricked into asking for.
PERMISSIONS_POLICY: Final = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
REFERRER_POLICY: Final = "strict-origin-when-cross-origin"
FRAME_OPTIONS: Final = "DENY"


def security_headers(*, connect_to: Sequence[str] = ()) -> dict[str, str]:
    """Header name to value, as a browser receives them; ``connect_to`` as in ``content_security_policy``."""
    return {
        "Content-Security-Policy": content_security_policy(connect_to=connect_to),
        "Strict-Transport-Security": STRICT_TRANSPORT_SECURITY,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": FRAME_OPTIONS,
        "Referrer-Policy": REFERRER_POLICY,
        "Permissions-Policy": PERMISSIONS_POLICY,
    }


#: The headers of a page that calls its own origin only (the local system).
SECURITY_HEADERS: Final = security_headers()
