"""Prints what `make up` deployed: endpoints, stack outputs, resources by type."""

from __future__ import annotations

import collections
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from modules.config import load_config  # noqa: E402

STACKS = ("state-bootstrap", "student-management")


def resources(stack: str) -> list[str]:
    listing = subprocess.run(
        ["terraform", f"-chdir={ROOT / 'cdktf.out' / 'stacks' / stack}", "state", "list"],
        check=True,
        capture_output=True,
        text=True,
    )
    return [line for line in listing.stdout.splitlines() if line and not line.startswith("data.")]


def main() -> None:
    config = load_config()
    print("\nDeployed into the local emulator")
    print(f"  emulator endpoint  {config.emulator_endpoint}  (CA: {config.emulator_ca_bundle})")
    print(f"  emulator dashboard {config.emulator_endpoint}/moto-api/")
    for stack in STACKS:
        outputs_file = ROOT / "cdktf.out" / f"{stack}.outputs.json"
        outputs = json.loads(outputs_file.read_text()).get(stack, {}) if outputs_file.exists() else {}
        addresses = resources(stack)
        by_type = collections.Counter(address.split(".")[0] for address in addresses)
        print(f"\n  stack {stack}: {len(addresses)} resources")
        for kind, count in sorted(by_type.items()):
            print(f"    {count:3d} x {kind}")
        for name, value in sorted(outputs.items()):
            print(f"    output {name} = {json.dumps(value, ensure_ascii=False)}")
    print(f"\n  outputs as JSON: {ROOT / 'cdktf.out' / 'outputs.json'}")


if __name__ == "__main__":
    main()
