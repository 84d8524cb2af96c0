"""Prints what `make up` deployed: endpoints, stack outputs, resources by type.

    .venv/bin/python -m local.summary --outdir DIR

Reads ``DIR/outputs.json`` and ``DIR/resources.json``, which local/deploy.py
wrote from each stack's Terraform state.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

from config.settings import APP_STACK, BOOTSTRAP_STACK, load_config
from lambdas.common import names
from local.deploy import RESOURCES_FILE


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", type=Path, required=True, help="the deployed synth output")
    outdir = parser.parse_args(argv).outdir.resolve()
    config = load_config()
    outputs_file = outdir / "outputs.json"
    outputs = json.loads(outputs_file.read_text(encoding="utf-8"))
    resources = json.loads((outdir / RESOURCES_FILE).read_text(encoding="utf-8"))
    print("\nDeployed into the local emulator")
    print(f"  emulator endpoint  {config.emulator_endpoint}  (CA: {config.emulator_ca_bundle})")
    print(f"  emulator dashboard {config.emulator_endpoint}/moto-api/")
    site = outputs.get(APP_STACK, {}).get(names.OUTPUT_SITE_URL)
    if site:
        # moto stores the distribution but answers no request sent to it: the local edge serves it.
        print(f"  site {site}  (the distribution as deployed; served locally by the edge, below)")
    for stack in (BOOTSTRAP_STACK, APP_STACK):
        addresses = resources[stack]
        by_type = collections.Counter(address.split(".")[0] for address in addresses)
        print(f"\n  stack {stack}: {len(addresses)} resources")
        for kind, count in sorted(by_type.items()):
            print(f"    {count:3d} x {kind}")
        for name, value in sorted(outputs.get(stack, {}).items()):
            print(f"    output {name} = {json.dumps(value, ensure_ascii=False)}")
    print(f"\n  outputs as JSON: {outputs_file}")


if __name__ == "__main__":
    main(sys.argv[1:])
