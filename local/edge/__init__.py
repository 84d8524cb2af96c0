"""The local edge: what AWS runs in front of the deployed system, played on loopback.

moto stores every resource ``make up`` deploys but runs none of them: no
Lambda code, no CloudFront, no API Gateway data plane. The edge plays those
three parts, one package per service, and reads every setting it acts on from
the emulator as it serves (``deployment/``), never from a copy in code: a
wiring mistake in the Terraform (a method without its key requirement, a
function with the wrong environment, an origin that names another API) breaks
the local system as it would break AWS.

- ``apigateway/``: the REST API's stage at ``http://localhost:<api_port>/<stage>``:
  resources and methods, Cognito user pool authorizers, API keys and usage
  plans, request validation, MOCK and Lambda proxy integrations, gateway
  responses.
- ``awslambda/``: each function in a worker process of its own, from its
  deployed zip and with its deployed environment and its execution role's
  credentials (``runtime.py``, run in the worker, is Lambda's Python runtime);
  Lambda's ``Invoke`` API and the scheduler's deliveries; what Lambda sends as
  the role (logs, traces).
- ``cloudfront/``: the CloudFront distribution at ``http://localhost:<site_port>/``:
  cache behaviours, the S3 origin, the API origin with its custom headers; and,
  the edge's own, ``POST /_cognito/``: the page's sign-in calls, to the emulator.
- ``deployment/``: the deployment, read from the emulator, one module per service.
- ``policies.py``: IAM's evaluation of a policy, shared with the emulator.
- ``server.py``: both servers, the request log; ``__main__.py``: the command line.
"""
