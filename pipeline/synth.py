"""Synthesizes the stacks of the environment ``ENV`` chooses, unless nothing that feeds the synth changed.

    .venv/bin/python -m pipeline.synth [--outdir DIR] [--force]

The app runs directly (``python main.py``, as ``cdktf synth`` runs it, minus
the CLI's few seconds of start-up) and writes ``DIR/stacks/<stack>/cdk.tf.json``,
with the engine ``CDK_ENGINE`` chooses (``engine/choice.py``): cdktf's app runs
in this interpreter (``.venv``), CDK Terrain's in its own (``.venv-cdktn``).
A fingerprint of everything the output depends on (the app's code, the
function code it zips, the configuration file, ``ENV``, ``DEPLOY_TARGET``,
``CDK_ENGINE`` and ``STUDENT_MGMT_*`` environment, the pinned packages) is kept beside the output;
when it matches, the synth is skipped: a rerun of ``make up`` with nothing
changed does not synthesize again. Terraform's working files in the stack
directories (``.terraform``, the lock file) are left alone either way.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from config.settings import (
    DEFAULT_CONFIG_FILE,
    ENV_CONFIG_FILE,
    ENV_DEPLOY_TARGET,
    ENV_ENGINE,
    ENV_ENVIRONMENT,
    ENV_PREFIX,
    PROJECT_ROOT,
    ConfigError,
    load_config,
)
from engine import choice

#: What the synthesized JSON is made from, relative to the project root.
#: Directories are read whole (Python caches excepted).
SYNTH_INPUTS = (
    "main.py",
    "cdktf.json",
    "config",
    "engine",
    "modules",
    "lambdas",
    "frontend",
    "requirements.lock",
    "requirements-cdktn.lock",
)
FINGERPRINT_FILE = ".inputs.sha256"


def _files(paths: Iterable[str]) -> Iterable[Path]:
    for name in paths:
        path = PROJECT_ROOT / name
        if path.is_file():
            yield path
        elif path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
            )


def fingerprint(environ: dict[str, str]) -> str:
    """A digest of every input of the synth: files by path and content, then the settings."""
    digest = hashlib.sha256()
    config_file = Path(environ.get(ENV_CONFIG_FILE, DEFAULT_CONFIG_FILE))
    for path in [*_files(SYNTH_INPUTS), config_file]:
        digest.update(
            str(path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path).encode() + b"\0"
        )
        digest.update(path.read_bytes() if path.is_file() else b"<missing>")
        digest.update(b"\0")
    chosen = (ENV_DEPLOY_TARGET, ENV_ENVIRONMENT, ENV_ENGINE)
    settings = sorted((key, value) for key, value in environ.items() if key.startswith(ENV_PREFIX) or key in chosen)
    digest.update(repr((settings, sys.version_info[:2])).encode())
    return digest.hexdigest()


def interpreter(environ: dict[str, str]) -> str:
    """The Python the app runs in: this one if it has the chosen engine, else the engine's environment's."""
    engine = choice.chosen(environ)
    if choice.runs_here(engine):
        return sys.executable
    if not engine.python.exists():
        print(f"error: {choice.missing_environment(engine)}", file=sys.stderr)
        raise SystemExit(2)
    return str(engine.python)


def synth(outdir: Path, *, force: bool = False) -> bool:
    """Synthesizes into ``outdir``; returns False when it was already up to date."""
    environ = dict(os.environ)
    stamp = outdir / FINGERPRINT_FILE
    current = fingerprint(environ)
    if not force and stamp.is_file() and stamp.read_text() == current:
        return False
    stamp.unlink(missing_ok=True)
    outdir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [interpreter(environ), str(PROJECT_ROOT / "main.py")],
        cwd=PROJECT_ROOT,
        env={**environ, "CDKTF_OUTDIR": str(outdir)},
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(result.returncode)
    stamp.write_text(current)
    return True


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", type=Path, default=PROJECT_ROOT / "cdktf.out", help="output directory (cdktf.out)")
    parser.add_argument("--force", action="store_true", help="synthesize even when nothing changed")
    args = parser.parse_args(argv)
    try:
        config = load_config()
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    outdir = args.outdir.resolve()
    shown = outdir.relative_to(PROJECT_ROOT) if outdir.is_relative_to(PROJECT_ROOT) else outdir
    started = time.monotonic()
    if synth(outdir, force=args.force):
        print(
            f"==> synthesized the stacks of environment {config.environment} ({config.deploy_target.value})"
            f" with {choice.ENGINES[config.cdk_engine].title} into {shown} in {time.monotonic() - started:.1f} s"
        )
    else:
        print(
            f"==> synth skipped: nothing it reads changed since {shown} was written"
            f" (environment {config.environment}, {config.deploy_target.value})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
