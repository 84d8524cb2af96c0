"""The application stack's Terraform outputs: where the edge starts reading the deployment.

Apart from the rest of the reader because the command line reads them alone,
before anything is served, to refuse a missing deployment (``__main__.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from config.settings import APP_STACK
from lambdas.common import names
from local.edge.deployment.errors import DeploymentError


@dataclass(frozen=True)
class Outputs:
    """The application stack's outputs the edge starts from."""

    api_id: str
    distribution_id: str
    website_bucket: str

    @classmethod
    def read(cls, path: Path) -> Outputs:
        try:
            stacks = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DeploymentError(f"{path} does not exist: run 'make up' first") from None
        except (OSError, ValueError) as error:
            raise DeploymentError(f"{path} is not readable JSON: {error}") from None
        outputs = stacks.get(APP_STACK, {}) if isinstance(stacks, dict) else {}
        wanted = (names.OUTPUT_API_ID, names.OUTPUT_SITE_DISTRIBUTION_ID, names.OUTPUT_WEBSITE_BUCKET)
        missing = [name for name in wanted if not isinstance(outputs.get(name), str)]
        if missing:
            raise DeploymentError(f"{path} has no output {', '.join(missing)} of stack {APP_STACK}: run 'make up'")
        return cls(*(str(outputs[name]) for name in wanted))
