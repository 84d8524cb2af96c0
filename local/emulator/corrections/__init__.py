"""Corrections of moto's behaviour, one module per AWS service, each installed by ``moto_server.py``.

Each fixes what moto answers differently from AWS in a way the deployment,
its plans or the local edge would notice, or adds what moto lacks; each says
why in its docstring, and some add a route of the emulator's own
(``/_emulator/...``, answered by ``moto_server.DispatcherWithHealth``).

- ``apigateway.py``: ``UpdateMethod`` and ``UpdateModel``; a deployment keeps a snapshot of the API;
- ``awslambda.py``: a repeated ``CreateFunction``; dead-letter queues; the deployed zip's route;
- ``cloudfront.py``: ``GetDistribution`` answers the config it was given;
- ``cloudwatch.py``: alarm actions notify their SNS topics, through the topics' and keys' policies;
- ``cognito.py``: ``UpdateUserPool`` keeps what it does not name;
- ``logs.py``: saved Logs Insights queries (query definitions);
- ``s3.py``: moto's own reading of bucket policies switched off (IAM decides before moto);
- ``ses.py``: identities pending until verified, the sandbox, and the messages SES accepted.
"""
