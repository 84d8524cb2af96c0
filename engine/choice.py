"""Which CDK engine synthesizes the stacks: CDKTF (``cdktf``, the default) or CDK Terrain (``cdktn``).

    python -m engine.choice            # prints the chosen engine's name (make setup reads it)

CDK Terrain is the community continuation of CDKTF (archived upstream in
December 2025), renamed on purpose and otherwise laid out the same: the same
classes under other package names, the same ``cdktf.json`` and
``cdktf.out/stacks/<stack>/cdk.tf.json``. One setting chooses: ``CDK_ENGINE``,
else the top-level key ``cdk_engine`` of ``config.toml`` (``config/loading.py``),
else ``cdktf``. Each engine has an environment of its own, which ``make setup``
installs only when it is chosen (CI installs both): the two cannot share one,
since cdktn 0.24 requires ``constructs < 10.8`` where cdktf's lock pins 10.8.1.

The constructs never name an engine: they import the core classes from
``engine.cdk`` and the AWS provider bindings as ``engine.aws.<submodule>``,
which resolve to the chosen engine's packages (docs/ENGINES.md). Standard
library (and the configuration's stdlib-only loader) only, like
``config/settings.py``: ``main.py`` and ``make`` read it before anything heavy.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from config import loading
from config.settings import PROJECT_ROOT, ConfigError


@dataclass(frozen=True)
class Engine:
    """One CDK engine: its packages on both sides of the jsii bridge, its environment and its CLI."""

    #: The value of ``CDK_ENGINE``.
    name: str
    #: What the docs and messages call it.
    title: str
    #: The Python package of the core classes (``App``, ``TerraformStack``, ...).
    core: str
    #: The Python package of the AWS provider bindings, and the jsii assembly (npm package) it wraps.
    bindings: str
    assembly: str
    #: The Python environment the app runs in, and its lock file, relative to the project root.
    venv: str
    lock: str
    #: The directory whose ``node_modules`` holds the engine's CLI, and the CLI's command.
    cli_dir: str
    cli: str

    @property
    def python(self) -> Path:
        """The interpreter of the engine's environment."""
        return PROJECT_ROOT / self.venv / "bin" / "python"

    @property
    def cli_path(self) -> Path:
        return PROJECT_ROOT / self.cli_dir / "node_modules" / ".bin" / self.cli


ENGINES: Final = {
    "cdktf": Engine(
        name="cdktf",
        title="CDKTF",
        core="cdktf",
        bindings="cdktf_cdktf_provider_aws",
        assembly="@cdktf/provider-aws",
        venv=".venv",
        lock="requirements.lock",
        cli_dir=".",
        cli="cdktf",
    ),
    "cdktn": Engine(
        name="cdktn",
        title="CDK Terrain",
        core="cdktn",
        bindings="cdktn_provider_aws",
        assembly="@cdktn/provider-aws",
        venv=".venv-cdktn",
        lock="requirements-cdktn.lock",
        cli_dir="engines/cdktn",
        cli="cdktn",
    ),
}


def chosen(environ: Mapping[str, str] | None = None) -> Engine:
    """The engine ``CDK_ENGINE`` (or ``config.toml``'s ``cdk_engine``) chooses; ConfigError if none."""
    return ENGINES[loading.cdk_engine(os.environ if environ is None else environ)]


def runs_here(engine: Engine) -> bool:
    """Whether this interpreter can run the app with ``engine`` (its core package is installed here)."""
    return importlib.util.find_spec(engine.core) is not None


def missing_environment(engine: Engine) -> str:
    """The one-line error of an engine this interpreter cannot run: its environment is missing, or another one's."""
    if engine.python.exists():
        return (
            f"CDK_ENGINE={engine.name}: {engine.title} is not installed in this Python ({sys.prefix}):"
            f" run the app with {engine.venv}/bin/python (main.py and make synth do)"
        )
    return (
        f"CDK_ENGINE={engine.name}: {engine.title}'s environment ({engine.venv}) is not installed:"
        f" run 'make setup CDK_ENGINE={engine.name}'"
    )


def run_in_engine_environment(engine: Engine | None = None) -> None:
    """Go on in this process if it can run ``engine`` (by default the chosen one), else become its Python.

    The cdktf and cdktn CLIs both start the app as ``cdktf.json`` says, in
    ``.venv``: with ``CDK_ENGINE=cdktn`` the app re-executes itself (same
    arguments, same environment) in ``.venv-cdktn``. Exits with a one-line
    error when that environment is not installed.
    """
    engine = engine or chosen()
    if runs_here(engine):
        return
    inside = Path(sys.prefix).resolve() == (PROJECT_ROOT / engine.venv).resolve()
    if inside or not engine.python.exists():
        print(f"error: {missing_environment(engine)}", file=sys.stderr)
        raise SystemExit(2)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(engine.python, [str(engine.python), *sys.argv])  # noqa: S606 - the engine's own interpreter


def main(argv: list[str]) -> int:
    if argv:
        print("usage: python -m engine.choice", file=sys.stderr)
        return 2
    try:
        print(chosen().name)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
