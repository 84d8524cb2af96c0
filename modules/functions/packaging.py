"""A function's deployment package: what its zip holds, and the zip itself, the same bytes on every synth.

Standard library only: ``bench/functions.py`` measures the zips the stack
deploys without loading the engine's bindings, and builds them with these.
"""

from __future__ import annotations

import shutil
import time
import zipfile
from pathlib import Path
from typing import Final

from config.settings import PROJECT_ROOT
from modules.shared.scratch import scratch_dir

LAMBDAS_DIR: Final = PROJECT_ROOT / "lambdas"
#: 2020-01-01T00:00:00Z, the time stamp of every file in a function's zip.
REPRODUCIBLE_MTIME: Final = 1_577_836_800


def stage(package: str, target: Path) -> Path:
    """What the function's zip holds, in ``target``: ``lambdas/__init__.py``, ``lambdas/common`` and its package."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    (target / "lambdas").mkdir(parents=True, exist_ok=True)
    shutil.copy2(LAMBDAS_DIR / "__init__.py", target / "lambdas" / "__init__.py")
    shutil.copytree(LAMBDAS_DIR / "common", target / "lambdas" / "common", ignore=ignore)
    shutil.copytree(LAMBDAS_DIR / package, target / "lambdas" / package, ignore=ignore)
    return target


def write_zip(source: Path, archive: Path) -> Path:
    """``source``'s files as the project's zip: sorted, each stamped ``REPRODUCIBLE_MTIME`` and ``rw-r--r--``.

    Deflated at zlib's default level. The time stamps and modes are the zip's own, whatever the files', so the
    same code gives the same bytes (and ``source_code_hash``) on every machine.
    """
    stamp = time.gmtime(REPRODUCIBLE_MTIME)[:6]
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        for path in sorted(source.rglob("*")):
            if path.is_file():
                info = zipfile.ZipInfo(path.relative_to(source).as_posix(), date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3  # Unix, whatever the machine: the mode below is Unix's
                info.external_attr = 0o100644 << 16
                zipped.writestr(info, path.read_bytes())
    return archive


def package_code(package: str) -> Path:
    """The function's zip (``archive.zip``) of what ``stage`` stages, in a private directory per synth.

    Made here, not by the engine (a ``TerraformAsset`` of type ``ARCHIVE``):
    cdktf and CDK Terrain zip a directory differently (cdktf writes directory
    entries, CDK Terrain's zip library none, each with its own time stamps),
    and the function's ``source_code_hash`` is the zip's hash. One zip of the
    project's own keeps a deployed function unchanged when the engine changes
    (docs/ENGINES.md).
    """
    source = stage(package, scratch_dir(f"student-lambda-{package}-"))
    return write_zip(source, scratch_dir(f"student-lambda-{package}-zip-") / "archive.zip")
