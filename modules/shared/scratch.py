"""Private build directories for one synth: what cdktf copies into its output as assets.

A fresh temporary directory per call, so synths of two targets can run at
once, removed when the synth's process exits (cdktf has copied it by then).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path


def scratch_dir(prefix: str) -> Path:
    """A new empty directory named ``<prefix>…``, removed at exit."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path
