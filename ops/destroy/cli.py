"""``make destroy``: removes the deployed application stack without losing the students or their backups.

The command line (``python -m ops.destroy``, the package's docstring): its
flags become ``Options``, and each way a teardown ends becomes an exit code
and one message.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from config.settings import ConfigError, load_config
from local.deploy import DeployError, exclusive
from ops.destroy.errors import NothingDeployed, TeardownError
from ops.destroy.options import BackupChoice, Options
from ops.destroy.targets import teardown


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.destroy", description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", type=Path, required=True, help="the synthesized output that was deployed")
    parser.add_argument(
        "--backups",
        type=BackupChoice,
        choices=list(BackupChoice),
        default=BackupChoice.ASK,
        help="the backup bucket and its log bucket: ask (default), keep them, or delete them",
    )
    parser.add_argument("--delete-table", action="store_true", help="delete the table too (asks for its name)")
    parser.add_argument("--skip-final-backup", action="store_true", help="do not write a final backup first")
    parser.add_argument("--yes", action="store_true", help="go on without asking (the table's name included)")
    args = parser.parse_args(argv)
    options = Options(
        backups=args.backups,
        delete_table=args.delete_table,
        final_backup=not args.skip_final_backup,
        assume_yes=args.yes,
    )
    try:
        config = load_config()
        with exclusive(config) if config.is_local else contextlib.nullcontext():
            report = teardown(config, args.outdir.resolve(), options)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except NothingDeployed as nothing:
        print(f"==> make destroy: {nothing}")
        return 0
    except (TeardownError, DeployError) as error:
        print(f"error: make destroy stopped: {error}", file=sys.stderr)
        return 1
    except (ClientError, BotoCoreError) as error:
        print(f"error: make destroy stopped: an AWS request failed: {error}", file=sys.stderr)
        return 1
    print(report.render(), flush=True)
    return 0
