"""Lambda's part of the local edge, and what Lambda does on a function's behalf.

- ``functions.py``: invokes the deployed functions, each in worker processes of its own;
- ``worker.py``: one execution environment: its process, its environment, its time and memory limits;
- ``runtime.py``: the Lambda Python runtime's part, run inside the worker by the deployed runtime's
  Python (``.venv-runtime``): a standalone bootstrap, importing nothing of the project;
- ``code.py``: each function's deployed zip, fetched from the emulator and checked;
- ``roles.py``: the execution role's temporary credentials, as Lambda (or EventBridge Scheduler) assumes it;
- ``service.py``: Lambda's ``Invoke`` API on the API port, asynchronous invocations and the scheduler's deliveries;
- ``telemetry.py``: what Lambda sends as the role: the log to CloudWatch Logs, the trace to X-Ray.
"""
