"""Starts moto server with routes of its own and corrections of moto's behaviour.

Run as ``python -m local.emulator.moto_server`` (moto server's own options):
local/emulator.sh starts it so, and knows its own server among the processes
by that module name.

Health route. ``GET /_emulator/health`` answers 200 with this server's pid,
without touching any service. local/emulator.sh asks it whether the emulator
answers: moto's own ``/moto-api/data.json`` describes every resource and answers
500 as soon as a Lambda function exists (moto then tries to reach Docker), which
made a running emulator look stopped. The pid lets the script check that the
server answering on the port is the process it started. Bucket names cannot
contain ``_``, so the path cannot shadow an S3 path-style request.

The emulator's own routes, answered before any service sees the request
(``DispatcherWithHealth``), each beside what it reads:
``GET /_emulator/lambda-code/<region>/<name>`` (a function's deployed zip,
which the local edge runs; ``corrections/awslambda.py``);
``GET /_emulator/ses-messages/<region>`` (every e-mail SES accepted, which
``make emails`` shows) and ``POST /_emulator/ses-verify/<region>/<identity>``
(``corrections/ses.py``);
``GET /_emulator/apigateway-deployment/<region>/<api>/<deployment>``
(``corrections/apigateway.py``); ``GET /_emulator/alarm-notifications/<region>``
(``corrections/cloudwatch.py``); ``GET /_emulator/iam/denials`` and
``POST /_emulator/iam/authorize`` (``iam/routes.py``).

IAM. Every request is authorized before moto sees it (``local/emulator/iam/``):
a role session's by its role's policies and the resource's policy, the
administrator's by the resource policies' explicit denies; a refused request
is answered in its protocol's shape and never reaches moto.

Corrections. Where moto answers otherwise than AWS in a way the deployment,
its plans or the local edge would notice, or lacks an operation they use,
``local/emulator/corrections/`` corrects it, one module per service; each is
installed here, before moto serves anything.
"""

from __future__ import annotations

import json
import os
from typing import Any

import moto.server
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from local.emulator.corrections import apigateway, awslambda, cloudfront, cloudwatch, cognito, logs, s3, ses
from local.emulator.iam import routes as iam_routes
from local.emulator.iam.decision import authorize
from local.emulator.wsgi import answer

HEALTH_PATH = "/_emulator/health"


class DispatcherWithHealth(DomainDispatcherApplication):
    """moto's dispatcher, with the emulator's own routes answered before any service sees the request."""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = str(environ.get("PATH_INFO", ""))
        if environ.get("REQUEST_METHOD") == "GET" and path == HEALTH_PATH:
            body = json.dumps({"emulator": "student-management", "pid": os.getpid()}).encode()
            return answer(start_response, "200 OK", "application/json", body)
        if environ.get("REQUEST_METHOD") == "GET" and path.startswith(awslambda.LAMBDA_CODE_PATH):
            return awslambda.function_code(path.removeprefix(awslambda.LAMBDA_CODE_PATH), start_response)
        if environ.get("REQUEST_METHOD") == "GET" and path.startswith(ses.SES_MESSAGES_PATH):
            return ses.sent_messages(path.removeprefix(ses.SES_MESSAGES_PATH), start_response)
        if environ.get("REQUEST_METHOD") == "GET" and path.startswith(apigateway.DEPLOYMENT_SNAPSHOT_PATH):
            return apigateway.deployment_snapshot(
                path.removeprefix(apigateway.DEPLOYMENT_SNAPSHOT_PATH), start_response
            )
        if environ.get("REQUEST_METHOD") == "POST" and path.startswith(ses.SES_VERIFY_PATH):
            return ses.verify_identity(path.removeprefix(ses.SES_VERIFY_PATH), start_response)
        if environ.get("REQUEST_METHOD") == "GET" and path.startswith(cloudwatch.NOTIFICATIONS_PATH):
            region = path.removeprefix(cloudwatch.NOTIFICATIONS_PATH)
            body = json.dumps({"notifications": cloudwatch.notifications(region)}).encode()
            return answer(start_response, "200 OK", "application/json", body)
        if environ.get("REQUEST_METHOD") == "GET" and path == iam_routes.DENIALS_PATH:
            return iam_routes.denials_route(str(environ.get("QUERY_STRING", "")), start_response)
        if environ.get("REQUEST_METHOD") == "POST" and path == iam_routes.AUTHORIZE_PATH:
            return iam_routes.authorize_route(environ, start_response)
        refused = authorize(environ)
        if refused is not None:
            return iam_routes.answer_refusal(*refused, environ, start_response)
        return super().__call__(environ, start_response)


# moto.server.main builds its application from this module attribute.
moto.server.DomainDispatcherApplication = DispatcherWithHealth  # type: ignore[attr-defined]
for correction in (s3, cloudwatch, awslambda, cloudfront, cognito, logs, apigateway, ses):
    correction.install()

if __name__ == "__main__":
    moto.server.main()
