"""One setting chooses the CDK engine (``engine/choice.py``), and the constructs never name one.

Cheap, in ``make check``: the choice itself, the neutral names the constructs
import (``engine.cdk``, ``engine.aws.<submodule>``) and a scan of the code.
CDK Terrain's own synth, against cdktf's, is ``tests/engine/test_engines.py``.
"""

from __future__ import annotations

import ast
import importlib
import re
import sys
from pathlib import Path

import cdktf
import pytest

from config import loading
from config.settings import ConfigError, load_config
from engine import cdk, choice
from tests.conftest import ROOT, run, tool_env


def _config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_cdktf_is_the_default_engine(tmp_path: Path) -> None:
    empty = _config_file(tmp_path, "")
    assert choice.chosen({"STUDENT_MGMT_CONFIG": str(empty)}).name == "cdktf"
    assert load_config(environ={}, config_file=empty).cdk_engine == "cdktf"
    # The checked-in configuration leaves the default.
    assert choice.chosen({}).name == "cdktf"


@pytest.mark.parametrize(
    ("file_text", "environ", "engine"),
    [
        ('cdk_engine = "cdktn"\n', {}, "cdktn"),
        ('cdk_engine = "cdktn"\n', {"CDK_ENGINE": "cdktf"}, "cdktf"),
        ("", {"CDK_ENGINE": "cdktn"}, "cdktn"),
        ('cdk_engine = "cdktf"\n', {"CDK_ENGINE": ""}, "cdktf"),
    ],
    ids=["file", "variable-over-file", "variable", "empty-variable"],
)
def test_the_variable_and_the_file_choose_alike_for_the_engine_and_the_configuration(
    tmp_path: Path, file_text: str, environ: dict[str, str], engine: str
) -> None:
    config_file = _config_file(tmp_path, file_text)
    env = {**environ, "STUDENT_MGMT_CONFIG": str(config_file)}
    assert choice.chosen(env).name == engine
    assert loading.cdk_engine(env) == engine
    assert load_config(environ=env).cdk_engine == engine


def test_an_unknown_engine_is_refused_naming_the_field_and_the_fix() -> None:
    with pytest.raises(ConfigError, match=r"'cdk_engine' \(config.toml key 'cdk_engine' or env CDK_ENGINE\)") as raised:
        choice.chosen({"CDK_ENGINE": "pulumi"})
    assert "Fix: use 'cdktf' or 'cdktn'" in str(raised.value)
    with pytest.raises(ConfigError, match="is not a CDK engine"):
        load_config(environ={"CDK_ENGINE": "pulumi"})


def test_an_environment_table_may_not_choose_the_engine(tmp_path: Path) -> None:
    config_file = _config_file(tmp_path, '[environments.staging]\ncdk_engine = "cdktn"\n')
    with pytest.raises(ConfigError, match="chooses the checkout's tools"):
        load_config(environ={"ENV": "staging"}, config_file=config_file)


def test_make_reads_the_choice_from_a_module_of_its_own() -> None:
    done = run([sys.executable, "-m", "engine.choice"], cwd=ROOT, env=tool_env(CDK_ENGINE="cdktn"), timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "cdktn\n", "")
    bad = run([sys.executable, "-m", "engine.choice"], cwd=ROOT, env=tool_env(CDK_ENGINE="x"), timeout=60)
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: invalid configuration field 'cdk_engine'")


def test_each_engine_names_its_own_packages_environment_and_cli() -> None:
    cdktf, cdktn = choice.ENGINES["cdktf"], choice.ENGINES["cdktn"]
    assert (cdktf.core, cdktf.bindings, cdktf.assembly) == ("cdktf", "cdktf_cdktf_provider_aws", "@cdktf/provider-aws")
    assert (cdktn.core, cdktn.bindings, cdktn.assembly) == ("cdktn", "cdktn_provider_aws", "@cdktn/provider-aws")
    for engine in (cdktf, cdktn):
        assert (ROOT / engine.lock).is_file()
        assert (ROOT / engine.cli_dir / "package.json").is_file()
    # The Makefile installs each from its own lock file, and each environment stays out of git.
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert f"{cdktn.venv}/.installed: {cdktn.lock}" in makefile.replace("$(CDKTN_VENV)", cdktn.venv)
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert {f"/{cdktn.venv}", f"/{cdktn.cli_dir}/node_modules"} <= set(ignored)


def test_the_neutral_bindings_are_the_chosen_engines_own_modules() -> None:
    # This environment's engine is cdktf (tests/conftest.py).
    alias = importlib.import_module("engine.aws.s3_bucket")
    real = importlib.import_module("cdktf_cdktf_provider_aws.s3_bucket")
    assert alias is real
    assert real.__spec__ is not None
    assert real.__spec__.name == "cdktf_cdktf_provider_aws.s3_bucket"  # the alias leaves the real spec alone
    assert importlib.import_module("engine.aws.s3_bucket").S3Bucket is real.S3Bucket
    with pytest.raises(ModuleNotFoundError, match=re.escape("cdktf_cdktf_provider_aws.no_such_resource")):
        importlib.import_module("engine.aws.no_such_resource")


def test_the_neutral_core_names_are_cdktfs_here() -> None:
    assert cdk.ENGINE.name == "cdktf"
    for name in cdk.__all__:
        if name != "ENGINE":
            assert getattr(cdk, name) is getattr(cdktf, name), name


#: Where the engine may be named: the engine's own modules. Everything else imports engine.cdk and engine.aws.
ENGINE_PACKAGES = {name for engine in choice.ENGINES.values() for name in (engine.core, engine.bindings)}


def test_no_construct_and_no_app_module_names_an_engine() -> None:
    sources = [ROOT / "main.py", *sorted((ROOT / "modules").rglob("*.py")), *sorted((ROOT / "bench").rglob("*.py"))]
    naming = []
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            naming += [
                f"{path.relative_to(ROOT)}:{node.lineno} {m}" for m in modules if m.split(".")[0] in ENGINE_PACKAGES
            ]
    assert naming == []
    assert len(sources) > 25
