"""Tutorial sections 5 and 6.3: the page's files as the website bucket holds them.

``build_site`` turns ``frontend/`` into the objects Terraform uploads:

- every asset but ``index.html`` gets a fingerprinted name (``css/base.<hash>.css``,
  the first 12 hex digits of its SHA-256) and is cached for a year, immutable:
  a changed file is a new name, so no cache ever serves a stale one;
- the page's script is a graph of ES modules (``.js``): they are fingerprinted
  leaves first, each ``import``/``export ... from`` specifier rewritten to the
  importer-relative fingerprinted name of the module it names (``./page.<hash>.js``),
  so a changed module renames every module that imports it, transitively
  (``modules/site/script_modules.py`` reads the imports, and refuses a dynamic
  ``import()``, a specifier that is not a relative path to a module of the site,
  and a cycle);
- ``index.html`` keeps its name, its references to those assets rewritten to the
  fingerprinted names, and is revalidated on every load, as is
- ``config.json``, generated here: what the page must know at run time (the API's
  paths on its own origin, the student schema the gateway validates with, and
  where staff sign in). Its sign-in settings name the user pool and its client,
  whose ids exist only after apply: Terraform writes this object from its text
  (``SiteObject.text``), with those references resolved, rather than from a file.

A deploy that changes the page is therefore visible at once, without a
CloudFront invalidation. Only ``index.html`` may name other assets, in ``src``
or ``href`` attributes, and a module the modules it imports; any other mention
of another file (a stylesheet's ``url()``, a script's ``fetch("x.svg")``) would
keep the unfingerprinted name, so the build refuses it. Standard library only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from config.settings import PROJECT_ROOT
from lambdas.common import names, validation
from modules.api import routes as api_routes
from modules.functions.catalog import FUNCTIONS, FunctionSpec
from modules.functions.catalog import routes as function_routes
from modules.site.script_modules import MODULE_SUFFIX, ModuleGraph, ModuleGraphError

FRONTEND_DIR: Final = PROJECT_ROOT / "frontend"
INDEX: Final = "index.html"
RUNTIME_CONFIG: Final = "config.json"
#: Fingerprinted assets: a year, and never revalidated (the name changes with the content).
IMMUTABLE: Final = "public, max-age=31536000, immutable"
#: The page and its run-time configuration: cached, but checked with the origin on every load.
REVALIDATE: Final = "no-cache"
CONTENT_TYPES: Final = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webmanifest": "application/manifest+json",
}
_FINGERPRINT_DIGITS: Final = 12
_REFERENCE: Final = re.compile(r'(?P<attr>\b(?:src|href))="(?P<value>[^"]*)"')


class SiteBuildError(ValueError):
    """``frontend/`` cannot be published as it is; the message names the file."""


@dataclass(frozen=True, kw_only=True)
class SiteObject:
    """One object of the website bucket: its key, the built file, and its HTTP metadata."""

    key: str  #: the object key (fingerprinted for assets)
    source_name: str  #: the file's name under ``frontend/`` (stable across content changes)
    source: Path
    content_type: str
    cache_control: str
    sha256: str
    #: The generated text of an object Terraform writes from its content
    #: (``config.json``); None for a file of ``frontend/``, uploaded as it is.
    text: str | None = None


@dataclass(frozen=True, kw_only=True)
class StaffSignIn:
    """Where and how the page signs staff in: ``config.json``'s ``auth`` object.

    ``user_pool_id`` and ``client_id`` may be Terraform references (known after
    apply). ``endpoint`` is Cognito's JSON API: the region's endpoint in AWS,
    a path of the site's own origin in the local system.
    """

    region: str
    user_pool_id: str
    client_id: str
    endpoint: str


def runtime_config(
    functions: Sequence[FunctionSpec] = FUNCTIONS, *, sign_in: StaffSignIn | None = None
) -> dict[str, Any]:
    """``config.json``: what the page reads at run time. No key, API host or account: paths on its own origin.

    ``sign_in`` adds the ``auth`` object (region, pool, client, endpoint); a
    build without it (the page's own tests) has none. Terraform reads the
    object's text as a template (that is how the pool's and client's ids get
    in), so a literal ``${`` or ``%{`` anywhere else would be read as one too:
    such a value is refused rather than uploaded changed.
    """
    paths = api_routes.paths(route for _, route in function_routes(functions))
    config: dict[str, Any] = {
        "api": {path.strip("/"): path for path in paths},
        "studentFields": list(names.STUDENT_FIELDS),
        # The schema's "$schema" names its dialect by URL; the page knows the dialect.
        "studentSchema": {k: v for k, v in api_routes.student_schema().items() if k != "$schema"},
        "earliestBirthdate": validation.EARLIEST_BIRTHDATE.isoformat(),
        "pageSize": 20,
    }
    if sign_in is not None:
        config["auth"] = {"region": sign_in.region, "endpoint": sign_in.endpoint}
    _refuse_template_syntax(config)
    if sign_in is not None:
        config["auth"] |= {"userPoolId": sign_in.user_pool_id, "clientId": sign_in.client_id}
    return config


def config_text(config: Mapping[str, Any]) -> str:
    """``config.json``'s text: sorted, indented JSON."""
    return json.dumps(config, indent=2, sort_keys=True) + "\n"


def _refuse_template_syntax(node: Any) -> None:
    if isinstance(node, str) and ("${" in node or "%{" in node):
        raise SiteBuildError(f"{RUNTIME_CONFIG}: {node!r} holds Terraform template syntax ('${{' or '%{{')")
    if isinstance(node, Mapping):
        for key, value in node.items():
            _refuse_template_syntax(key)
            _refuse_template_syntax(value)
    elif isinstance(node, list | tuple):
        for value in node:
            _refuse_template_syntax(value)


def fingerprinted(name: str, content: bytes) -> str:
    """``css/base.css`` → ``css/base.<12 hex digits of SHA-256>.css``."""
    stem, dot, suffix = name.rpartition(".")
    digest = hashlib.sha256(content).hexdigest()[:_FINGERPRINT_DIGITS]
    return f"{stem}.{digest}{dot}{suffix}"


def build_site(
    out_dir: Path,
    *,
    source_dir: Path = FRONTEND_DIR,
    config: Mapping[str, Any] | None = None,
) -> list[SiteObject]:
    """Write the bucket's objects into ``out_dir`` (emptied first); return them, ``index.html`` first."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    if not (source_dir / INDEX).is_file():
        raise SiteBuildError(f"{source_dir / INDEX} is missing: the site has no page")
    assets = _read_assets(source_dir)
    modules = _module_graph(source_dir, assets)
    renamed: dict[str, str] = {}
    objects: list[SiteObject] = []
    # The modules last, leaves first: each names what it imports by the name that is published.
    for name in [*(name for name in assets if name not in modules.texts), *modules.order]:
        path = source_dir / name
        content = assets[name]
        if name in modules.texts:
            _refuse_references(path, name, " ".join(modules.literals[name]), assets)
            content = modules.rewritten(name, renamed).encode("utf-8")
        else:
            _refuse_references(path, name, content.decode("utf-8", errors="ignore"), assets)
        renamed[name] = fingerprinted(name, content)
        objects.append(_write(out_dir, renamed[name], content, IMMUTABLE, name=name, origin=path))
    index = _rewrite_references(source_dir / INDEX, renamed)
    page = _write(out_dir, INDEX, index.encode("utf-8"), REVALIDATE, name=INDEX, origin=source_dir / INDEX)
    settings = config_text(runtime_config() if config is None else config)
    generated = _write(out_dir, RUNTIME_CONFIG, settings.encode("utf-8"), REVALIDATE, name=RUNTIME_CONFIG, origin=None)
    objects.append(dataclasses.replace(generated, text=settings))
    return [page, *sorted(objects, key=lambda item: item.key)]


def _read_assets(source_dir: Path) -> dict[str, bytes]:
    """Every file under ``source_dir`` but the page (and hidden files), by its name relative to it."""
    assets: dict[str, bytes] = {}
    for path in sorted(p for p in source_dir.rglob("*") if p.is_file() and not p.name.startswith(".")):
        name = path.relative_to(source_dir).as_posix()
        if name == RUNTIME_CONFIG:
            raise SiteBuildError(f"{path}: {RUNTIME_CONFIG} is generated by the build; remove the file")
        if name != INDEX:
            assets[name] = path.read_bytes()
    return assets


def _module_graph(source_dir: Path, assets: Mapping[str, bytes]) -> ModuleGraph:
    """The site's scripts as ES modules: their imports read and checked, their publishing order."""
    texts: dict[str, str] = {}
    for name, content in assets.items():
        if name.endswith(MODULE_SUFFIX):
            try:
                texts[name] = content.decode("utf-8")
            except UnicodeDecodeError as error:
                raise SiteBuildError(f"{source_dir / name}: a module must be UTF-8 text ({error})") from error
    try:
        return ModuleGraph.read(texts)
    except ModuleGraphError as error:
        raise SiteBuildError(f"{source_dir / error.name}: {error.reason}") from error


def _content_type(name: str, origin: Path | None) -> str:
    suffix = "." + name.rpartition(".")[2] if "." in name else ""
    if suffix not in CONTENT_TYPES:
        known = ", ".join(sorted(CONTENT_TYPES))
        raise SiteBuildError(f"{origin or name}: no content type is known for '{suffix}' files (known: {known})")
    return CONTENT_TYPES[suffix]


def _write(
    out_dir: Path, key: str, content: bytes, cache_control: str, *, name: str, origin: Path | None
) -> SiteObject:
    target = out_dir / key
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    return SiteObject(
        key=key,
        source_name=name,
        source=target,
        content_type=_content_type(key, origin),
        cache_control=cache_control,
        sha256=hashlib.sha256(content).hexdigest(),
    )


def _refuse_references(path: Path, name: str, text: str, assets: Mapping[str, bytes]) -> None:
    """``text`` must not name another asset: that name is not the one published.

    ``text`` is a file's whole text; for a module, its literals (strings,
    templates, regular expressions) but its import specifiers, since only a
    literal can name a file to load and a comment loads nothing. An asset is
    named by its file name (``favicon.svg``), as a path relative to any folder
    of the site ends.
    """
    for other in assets:
        file_name = other.rpartition("/")[2]
        if other != name and re.search(rf"(?<![\w.-]){re.escape(file_name)}(?![\w-])", text):
            raise SiteBuildError(
                f"{path} names {other}: only {INDEX} may reference other assets, and a module by its static imports"
                " (every asset is renamed by content)"
            )


def _rewrite_references(page: Path, renamed: Mapping[str, str]) -> str:
    """Point every ``src``/``href`` of the page at its asset's fingerprinted name.

    Each must name a file of the site (or be an in-page ``#anchor``): a
    reference to another host would break the CSP and the no-CDN rule, and
    one to a missing file would be a broken page.
    """

    def rewrite(match: re.Match[str]) -> str:
        value = match.group("value")
        if value.startswith("#"):
            return match.group(0)
        target = renamed.get(value.removeprefix("/").removeprefix("./"))
        if target is None:
            raise SiteBuildError(f'{page}: {match.group("attr")}="{value}" names no file of the site')
        return f'{match.group("attr")}="/{target}"'

    return _REFERENCE.sub(rewrite, page.read_text(encoding="utf-8"))
