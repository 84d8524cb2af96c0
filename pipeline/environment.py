"""The first line of every ``make`` command: which environment it acts on, and whether it may.

    python3 -m pipeline.environment COMMAND [--aws-only | --local-only]

One rule decides where a command acts (docs/DEPLOYING.md, "Environments"):
``ENV=<name>`` chooses the environment; without it every command acts on
``local``, the emulator of ``make up``. So nothing changes AWS unless told
which environment: the commands that exist only for AWS (``--aws-only``:
``make bootstrap``, ``deploy``, ``apply``, ``drift``, ``identity``) refuse
without an explicit ``ENV``, and the commands that exist only for the local
system (``--local-only``: ``make seed``, ``emails``, ...) refuse an AWS
environment. Either refusal is one line naming the choices, with exit status 2.
The line goes to stderr, so a command's output stays its own (``$(make api-key)``).
Standard library only (it reads the configuration), so it adds ~50 ms.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence

from config.loading import aws_environment_choices
from config.settings import ENV_ENVIRONMENT, LOCAL_ENVIRONMENT, AppConfig, ConfigError, load_config

#: Exit status of a refusal (and of an invalid configuration).
REFUSED = 2


def describe(config: AppConfig) -> str:
    """Where the environment lives, in a few words: the account and region, its names and state."""
    if config.is_local and config.environment == LOCAL_ENVIRONMENT:
        return f"the local emulator at {config.emulator_endpoint}"
    where = "the local emulator" if config.is_local else "the AWS account of your credentials"
    names = f"names -{config.name_qualifier}" if config.name_qualifier else "the tutorial's names"
    return f"{where}, {config.region}, {names}, state {config.state_bucket}/{config.state_key}"


def check(command: str, environ: Mapping[str, str], *, aws_only: bool, local_only: bool) -> str:
    """The command's first line, or a ``SystemExit`` with the one-line refusal."""
    config = load_config(environ)
    aws = aws_environment_choices(environ)
    chosen = environ.get(ENV_ENVIRONMENT, "").strip()
    if aws_only and (not chosen or config.environment == LOCAL_ENVIRONMENT):
        choices = " or ".join(f"ENV={name}" for name in aws)
        raise SystemExit(f"make {command}: changes AWS, so it needs an environment: {choices} ('make up' is local's)")
    if local_only and config.environment != LOCAL_ENVIRONMENT:
        raise SystemExit(
            f"make {command}: acts on the local system only, not on {config.environment}: run it without ENV"
        )
    return f"==> make {command}: environment {config.environment} ({describe(config)})"


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--aws-only", action="store_true", help="refuse without an explicit AWS ENV")
    only.add_argument("--local-only", action="store_true", help="refuse any environment but local")
    args = parser.parse_args(argv)
    try:
        # On stderr, like every note of a command: `$(make api-key)` and `$(make staff-token)` stay the value alone.
        print(check(args.command, os.environ, aws_only=args.aws_only, local_only=args.local_only), file=sys.stderr)
    except ConfigError as error:
        print(f"make {args.command}: {error}", file=sys.stderr)
        return REFUSED
    except SystemExit as refusal:
        print(refusal, file=sys.stderr)
        return REFUSED
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
