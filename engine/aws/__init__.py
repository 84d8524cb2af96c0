"""The chosen engine's AWS provider bindings under one neutral name: ``engine.aws.<submodule>``.

``from engine.aws.s3_bucket import S3Bucket`` imports
``cdktf_cdktf_provider_aws.s3_bucket`` (CDKTF) or ``cdktn_provider_aws.s3_bucket``
(CDK Terrain), whichever ``CDK_ENGINE`` chooses (``engine/choice.py``): both
packages have the same submodules and class names for every binding this
project uses (CDK Terrain's are a superset; ``tests/engine/test_engines.py``).

How: importing this package puts a finder on ``sys.meta_path`` that answers
for ``engine.aws.<name>`` with the bindings' own module object, imported under
its real name: ``sys.modules`` then holds the one module under both names, so
jsii (which looks types up by the real name) and ``isinstance`` see no
difference, and the on-demand loading of ``engine/provider_bindings.py``
applies unchanged. mypy cannot follow the alias: like the bindings themselves
(``pyproject.toml``), ``engine.aws.*`` is typed as ``Any``.
"""

from __future__ import annotations

import importlib
import importlib.abc
import sys
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Final

from engine import choice

PREFIX: Final = f"{__name__}."
#: The package the alias resolves to.
BINDINGS: Final = choice.chosen().bindings


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``engine.aws.<name>`` and loads it as the bindings' ``<name>``, the same module object."""

    def __init__(self) -> None:
        self._specs: dict[str, ModuleSpec | None] = {}

    def find_spec(self, fullname: str, path: object = None, target: ModuleType | None = None) -> ModuleSpec | None:
        if not fullname.startswith(PREFIX):
            return None
        return ModuleSpec(fullname, self)

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        module = importlib.import_module(BINDINGS + spec.name[len(PREFIX) - 1 :])
        # The import system sets __spec__ on the module it is given: keep the real one to restore.
        self._specs[spec.name] = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        alias = module.__spec__
        if alias is not None and alias.name in self._specs:
            module.__spec__ = self._specs.pop(alias.name)


if not any(isinstance(finder, _Alias) for finder in sys.meta_path):
    sys.meta_path.insert(0, _Alias())
