"""``make api-key``: prints the local API key (from the emulator's Secrets Manager).

    .venv/bin/python -m ops.api_key

A module of its own: ``seed`` and the benchmarks read the key the same way.
"""

from __future__ import annotations

import argparse
import sys

from config.settings import AppConfig
from lambdas.common import names
from local.deploy import emulator_client
from ops.local_system import outputs, run_operation


def api_key(config: AppConfig) -> str:
    secret = outputs(config)[names.OUTPUT_API_KEY_SECRET_ARN]
    return str(emulator_client("secretsmanager", config).get_secret_value(SecretId=secret)["SecretString"])


def main(argv: list[str]) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    return run_operation(lambda config: print(api_key(config)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
