"""IAM in the emulator: every request is authorized as AWS would authorize it, before moto serves it.

moto accepts any credentials for any action. Here each request is first
matched to its caller and to what it asks (``operations.describe``), then decided by
``local/edge/policies.py``, the evaluator the edge uses too:

- **A role session** (temporary credentials from the emulator's STS, as Lambda
  gives each function, and as the edge assumes for the scheduler): the role's
  identity policies (inline and attached) and the resource's policy (a bucket
  policy, an SQS queue policy, an SNS topic policy, a function's policy) decide,
  with the request's context: ``aws:SecureTransport`` (the emulator serves
  HTTPS only), ``aws:PrincipalArn`` (the role), ``aws:PrincipalAccount``,
  ``aws:PrincipalType``, ``aws:userid`` and, for SES, ``ses:FromAddress``. The
  session's token must match and must not have expired, or the request is
  refused as AWS refuses it (``InvalidClientTokenId``, ``ExpiredToken``).
- **Any other caller** is the account's administrator (Terraform, the
  operator's commands, the tests): every identity policy allows it, but a
  resource policy's explicit ``Deny`` still applies, as in AWS (the backup
  bucket refuses its ``PutObject`` as it refuses everyone's but the backup
  role's). The administrator also has the root user's exemption: a bucket's
  policy cannot refuse it reading, replacing or deleting that policy, so a
  policy that locks everyone out can be mended, as the root user mends it in AWS.

A refused request is answered in its protocol's shape (``AccessDenied`` in S3's
and the query protocol's XML, ``AccessDeniedException`` in JSON), recorded,
and logged as one ``AccessDenied`` line naming the caller, the action, the
resource and the reason in AWS's words. ``GET /_emulator/iam/denials`` answers
the recorded refusals; ``POST /_emulator/iam/authorize`` decides a request made
to the local edge (Lambda's ``Invoke``) with the same evaluator.

What a request asks is read as AWS's service authorization reference gives it,
for the operations this system makes (DynamoDB's tables; S3's objects and
buckets, multipart uploads included; SES's identities; SQS's queues; CloudWatch
Logs' log streams; SNS's topics); any other operation is its service's action
on resource ``*``. A request whose action cannot be told (a REST operation not
listed here) is refused to a role session and passed for the administrator.
Not evaluated: permissions boundaries, session policies, service control
policies and KMS key policies for direct calls (nothing here uses them), and
signatures (a request with a known key and token is taken as signed by it).

- ``callers.py``: who is asking: the request's signature, the role session of its key, the caller and its context;
- ``operations.py``: what it asks, service by service: the action, its resources, where their policy comes from;
- ``stored_policies.py``: the policies as moto stores them: a role's, a bucket's, a queue's, a topic's, a function's;
- ``decision.py``: the decision on a request (and on a call the edge or a service makes), the refusals recorded;
- ``routes.py``: a refusal answered in its protocol's shape, and IAM's two routes of the emulator's own.
"""
