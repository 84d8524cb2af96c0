"""The deployed system, read from the emulator: the only source of what the edge does.

Terraform's outputs (``<emulator_state_dir>/cdktf.out/outputs.json``, written
by ``make up``) name the API, the distribution and the website bucket; every
other setting is read with boto3 from the emulator, as AWS's own services
would read it from their control planes: an API's methods with their
authorization and its authorizers, a user pool's app clients. Each answer is
kept at most ``MAX_AGE_SECONDS``, so a change made in the emulator (a
function's environment, a deleted method, a new usage plan limit, a deleted
app client) is served about a second later, without restarting the edge. A
pool's signing keys are the exception: read over HTTPS from the emulator's
``/<pool id>/.well-known/jwks.json`` and kept by the authorizer for as long as
the edge runs, as a verifier of Cognito's tokens keeps them.

The modules hold the parts of each resource the edge acts on, in the shape
API Gateway, Lambda and CloudFront give them, one module per service, each
with the reading of its control plane's answers; nothing here decides how a
request is answered.

- ``reader.py``: ``Deployment``, the one reader the edge asks: the emulator's
  clients and routes, and the answers kept about a second;
- ``outputs.py``: the application stack's Terraform outputs the edge starts from;
- ``apigateway.py``: a REST API with its stages, usage plans, keys and what its
  deployment serves; ``cognito.py``: the user pools its authorizers name;
- ``awslambda.py``: a function's configuration; ``scheduler.py``: a schedule's target;
- ``cloudfront.py``: the distribution; ``iam.py``: the emulator's decision on a call;
- ``errors.py``: what every reader raises.
"""
