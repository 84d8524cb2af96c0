#!/usr/bin/env python
"""The CDK app: the serverless student management system as Terraform stacks.

``state-bootstrap`` creates the S3 bucket that holds Terraform state (its own
state stays local). ``student-management`` is the system itself, with its state
in that bucket. ``delivery-identity`` (only with ``github_repository`` set, on
a real account) lets GitHub Actions plan and apply it. ``ENV`` chooses the
environment: without it ``local``, the local moto server emulator;
``staging``, ``production`` or any other ``[environments.<name>]`` of
``config.toml`` is a real AWS account. See ``config/settings.py`` for every
setting. The stacks are composed in ``modules/stacks/``; this module checks the
configuration, loads the provider bindings and synthesizes, with CDKTF or CDK
Terrain as ``CDK_ENGINE`` chooses (``engine/choice.py``, docs/ENGINES.md).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from config.settings import (
    APP_STACK,
    BOOTSTRAP_STACK,
    DELIVERY_STACK,
    AppConfig,
    ConfigError,
    account_environments,
    load_config,
)
from engine import choice, provider_bindings


def validated_config() -> AppConfig | None:
    """The configuration, or None once the reason it is invalid is printed."""
    try:
        return load_config()
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return None


if __name__ == "__main__":
    if validated_config() is None:
        sys.exit(2)  # a bad value fails here, in milliseconds, before the bindings load
    # The CLIs start the app in .venv (cdktf.json); CDK Terrain's runs in its own environment (engine/choice.py).
    choice.run_in_engine_environment()
provider_bindings.install()

# Imported only after the configuration check and install() (engine/provider_bindings.py).

from engine.cdk import App  # noqa: E402
from modules.functions.catalog import FUNCTIONS, FunctionSpec  # noqa: E402
from modules.stacks import delivery_identity  # noqa: E402
from modules.stacks.bootstrap import BootstrapStack  # noqa: E402
from modules.stacks.delivery_identity import DeliveryIdentityStack  # noqa: E402
from modules.stacks.student_management import StudentManagementStack  # noqa: E402


def build_app(
    config: AppConfig,
    outdir: Path | None = None,
    *,
    functions: Sequence[FunctionSpec] = FUNCTIONS,
    environments: Sequence[AppConfig] | None = None,
) -> App:
    """The system's stacks for one configuration (and function table), ready to synthesize.

    The delivery identity only for a real account whose ``github_repository``
    is set (``delivery_identity.wanted``), for every AWS environment of the
    configuration (``environments``, by default ``account_environments()``).
    """
    app = App(outdir=str(outdir)) if outdir else App()
    BootstrapStack(app, BOOTSTRAP_STACK, config=config)
    application = StudentManagementStack(app, APP_STACK, config=config, functions=functions)
    if delivery_identity.wanted(config):
        DeliveryIdentityStack(
            app,
            DELIVERY_STACK,
            config=config,
            environments=account_environments() if environments is None else environments,
            application=application,
            functions=functions,
        )
    return app


def main() -> int:
    config = validated_config()
    if config is None:
        return 2
    build_app(config).synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
