"""IAM over HTTP: a refused request answered in the shape its service's SDK parses, and the two routes of
IAM's own: the refusals recorded (``DENIALS_PATH``) and the decision on a call made to the local edge
(``AUTHORIZE_PATH``).
"""

from __future__ import annotations

import json
import urllib.parse
import uuid
from typing import Any, Final

from local.emulator.iam.callers import Refusal, credential
from local.emulator.iam.decision import DENIALS, authorize_call
from local.emulator.wsgi import answer, form_fields, request_body

#: ``GET /_emulator/iam/denials[?after=<seq>]``: the refusals recorded, oldest first.
DENIALS_PATH: Final = "/_emulator/iam/denials"
#: ``POST /_emulator/iam/authorize``: decide a call made to the edge (its credentials, action and resource).
AUTHORIZE_PATH: Final = "/_emulator/iam/authorize"


def answer_refusal(refusal: Refusal, status: int, environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """The refusal in the shape the service's SDK parses: S3's XML, the JSON protocol's, or the query protocol's.

    The request's body is read first (and dropped): a server that answers
    before the client has sent it all makes the client see a broken connection
    instead of the answer.
    """
    request_body(environ)
    request_id = str(uuid.uuid4())
    reason = {400: "Bad Request", 403: "Forbidden"}[status]
    headers = [("x-amzn-RequestId", request_id)]
    scope = credential(environ)
    service = scope[2] if scope else ""
    if environ.get("HTTP_X_AMZ_TARGET"):
        code = refusal.code if refusal.code != "AccessDenied" else "AccessDeniedException"
        body = json.dumps({"__type": f"com.amazon.coral.service#{code}", "message": refusal.message}).encode()
        headers += [("Content-Type", "application/x-amz-json-1.0")]
        if service == "sqs":  # SQS's JSON protocol keeps its query protocol's error codes in this header
            headers += [("x-amzn-query-error", f"{refusal.code};Sender")]
    elif service == "s3":
        body = _xml("Error", refusal, request_id)
        headers += [("Content-Type", "application/xml")]
    elif "Action" in form_fields(environ, b""):
        body = _xml("ErrorResponse", refusal, request_id)
        headers += [("Content-Type", "text/xml")]
    else:
        body = json.dumps({"message": refusal.message}).encode()
        headers += [("Content-Type", "application/json"), ("x-amzn-ErrorType", f"{refusal.code}Exception")]
    if environ.get("REQUEST_METHOD") == "HEAD":
        body = b""
    start_response(f"{status} {reason}", [*headers, ("Content-Length", str(len(body)))])
    return [body]


def _xml(root: str, refusal: Refusal, request_id: str) -> bytes:
    message = refusal.message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    error = f"<Code>{refusal.code}</Code><Message>{message}</Message>"
    if root == "Error":
        return (
            f"<?xml version='1.0' encoding='UTF-8'?><Error>{error}<RequestId>{request_id}</RequestId></Error>".encode()
        )
    inner = f"<Error><Type>Sender</Type>{error}</Error><RequestId>{request_id}</RequestId>"
    return f"<?xml version='1.0' encoding='UTF-8'?><ErrorResponse>{inner}</ErrorResponse>".encode()


def denials_route(query: str, start_response: Any) -> list[bytes]:
    """``DENIALS_PATH``: the refusals recorded after ``?after=<seq>``, oldest first."""
    after = urllib.parse.parse_qs(query).get("after", ["0"])[0]
    denials = DENIALS.after(int(after) if after.isdigit() else 0)
    return answer(start_response, "200 OK", "application/json", json.dumps({"denials": denials}).encode())


def authorize_route(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """``AUTHORIZE_PATH``: the decision on a call made to the edge (``decision.authorize_call``)."""
    try:
        request = json.loads(request_body(environ) or b"{}")
        decision = authorize_call(request)
    except (ValueError, KeyError) as error:
        body = json.dumps({"message": f"expected accessKeyId, sessionToken, action and resource: {error}"}).encode()
        return answer(start_response, "400 Bad Request", "application/json", body)
    return answer(start_response, "200 OK", "application/json", json.dumps(decision).encode())
