"""A function's deployed code: its zip, fetched from the emulator, checked, and extracted for the workers.

The zip comes from the emulator's ``/_emulator/lambda-code/<region>/<name>``
route (moto's ``GetFunction`` names a location it does not serve), is checked
against the function's ``CodeSha256``, and is extracted into a private
temporary directory once per ``CodeSha256``: the workers' Lambda ``/var/task``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import ssl
import tempfile
import threading
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Final

from config.settings import AppConfig
from local.edge.deployment.awslambda import Function

#: The emulator's route that hands out a function's deployed zip (local/emulator/corrections/awslambda.py).
CODE_ROUTE: Final = "/_emulator/lambda-code"


class CodeError(RuntimeError):
    """The function cannot start: its zip could not be fetched, or is not the code Lambda says it runs.

    Raised too when its role cannot be assumed (``roles.py``), its runtime is
    missing, or the edge is stopping: every reason an invocation fails before
    the function runs (``ServiceException``).
    """


class CodeStore:
    """Each function's deployed zip, fetched once per ``CodeSha256`` and extracted into a private directory."""

    def __init__(self, config: AppConfig) -> None:
        self._config = config
        self._root: Path | None = None  # made on first use: an edge that never invokes leaves nothing behind
        self._lock = threading.Lock()

    def directory(self, function: Function) -> Path:
        with self._lock:
            if self._root is None:
                self._root = Path(tempfile.mkdtemp(prefix="student-edge-code-"))
            target = self._root / f"{function.name}-{hashlib.sha256(function.code_sha256.encode()).hexdigest()[:16]}"
            if not target.is_dir():
                self._extract(function, target)
        return target

    def _extract(self, function: Function, target: Path) -> None:
        url = f"{self._config.emulator_endpoint}{CODE_ROUTE}/{self._config.region}/{function.name}"
        try:
            tls = ssl.create_default_context(cafile=str(self._config.emulator_ca_bundle))
            with urllib.request.urlopen(url, timeout=30, context=tls) as answer:  # noqa: S310 - the emulator's https URL
                data = answer.read()
        except (urllib.error.URLError, OSError) as error:
            raise CodeError(f"cannot fetch the code of {function.name} from {url}: {error}") from None
        digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
        if digest != function.code_sha256:
            raise CodeError(
                f"the zip of {function.name} has SHA-256 {digest}, but the function's CodeSha256 is "
                f"{function.code_sha256}: the code changed while it was fetched, or the emulator's route is stale"
            )
        staging = Path(tempfile.mkdtemp(dir=target.parent))
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            archive.extractall(staging)  # extractall drops absolute and '..' member paths
        staging.rename(target)

    def remove(self) -> None:
        with self._lock:
            if self._root is not None:
                shutil.rmtree(self._root, ignore_errors=True)
                self._root = None
