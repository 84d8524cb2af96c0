"""API Gateway's part of the local edge: a REST API's stage, at ``http://localhost:<api_port>/<stage>``.

- ``gateway.py``: the order API Gateway answers a request in, step by step;
- ``request.py``: the request on its way through those steps, and the gateway's own refusal;
- ``authorizer.py``: Cognito user pool authorizers;
- ``usage.py``: API keys' usage plans and the stage's throttling;
- ``validation.py``: the method's request validator;
- ``integrations.py``: the MOCK and Lambda proxy (AWS_PROXY) integrations;
- ``responses.py``: gateway responses, the shape of every error the gateway answers itself.
"""
