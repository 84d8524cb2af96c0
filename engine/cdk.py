"""The CDK engine's core classes, as the constructs use them: CDKTF's or CDK Terrain's.

``from engine.cdk import App, TerraformStack`` gives ``cdktf``'s classes, or
``cdktn``'s when ``CDK_ENGINE=cdktn`` (``engine/choice.py``), chosen once, when
this module is first imported. CDK Terrain keeps CDKTF's names: every name
below exists in both (``tests/engine/test_engines.py``). The AWS provider
bindings come the same way from ``engine.aws`` (``engine/aws/__init__.py``).

mypy reads cdktf's types (the default engine, in ``.venv``); at run time the
chosen engine's package must be importable by this interpreter: ``main.py``
starts the app in the engine's own environment.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Final

from engine import choice

#: The engine the constructs are built with.
ENGINE: Final = choice.chosen()

__all__ = [
    "ENGINE",
    "App",
    "AssetType",
    "DefaultTokenResolver",
    "Fn",
    "IResolveContext",
    "IStringProducer",
    "ITerraformDependable",
    "Lazy",
    "LocalBackend",
    "S3Backend",
    "S3BackendEndpointConfig",
    "StringConcat",
    "TerraformAsset",
    "TerraformOutput",
    "TerraformResource",
    "TerraformResourceLifecycle",
    "TerraformStack",
    "Tokenization",
]

if TYPE_CHECKING:
    from cdktf import (
        App,
        AssetType,
        DefaultTokenResolver,
        Fn,
        IResolveContext,
        IStringProducer,
        ITerraformDependable,
        Lazy,
        LocalBackend,
        S3Backend,
        S3BackendEndpointConfig,
        StringConcat,
        TerraformAsset,
        TerraformOutput,
        TerraformResource,
        TerraformResourceLifecycle,
        TerraformStack,
        Tokenization,
    )
else:
    if not choice.runs_here(ENGINE):
        raise ModuleNotFoundError(choice.missing_environment(ENGINE), name=ENGINE.core)
    _core = importlib.import_module(ENGINE.core)
    globals().update({name: getattr(_core, name) for name in __all__ if name != "ENGINE"})
