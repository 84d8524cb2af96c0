"""Invalidates the site's CloudFront cache (tutorial section 7.3, the tutorial's ``/*``).

    .venv/bin/python -m ops.invalidate [--paths /* ...] [--no-wait]

Not needed for a changed page to show: ``index.html`` and ``config.json`` are
revalidated on every load, and every other asset's name changes with its
content (``modules/site/assets.py``). Use it after changing objects in the
bucket by hand. Reads the distribution id from the deployed outputs
(``cdktf.out/outputs.<environment>.json`` for an AWS environment, written by
``make deploy ENV=<name>``; the emulator's for ``local``) and waits until CloudFront reports the invalidation
completed (``--no-wait`` returns at once). Each path invalidated beyond 1,000 a
month costs $0.005; ``/*`` counts as one.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import boto3

from config.settings import APP_STACK, PROJECT_ROOT, AppConfig, ConfigError, load_config
from lambdas.common import names
from local.deploy import emulator_client

POLL_SECONDS = 5
MAX_WAIT_SECONDS = 900


def outputs_file(config: AppConfig) -> Path:
    if config.is_local:
        return config.emulator_outputs_file
    # One file per environment: a deploy of staging must not make production's invalidation clear staging's cache.
    return PROJECT_ROOT / "cdktf.out" / f"outputs.{config.environment}.json"


def distribution_id(config: AppConfig) -> str:
    path = outputs_file(config)
    deploy = "make up" if config.is_local else f"make deploy ENV={config.environment}"
    try:
        outputs = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SystemExit(f"error: {path} does not exist: run `{deploy}` first") from None
    value = outputs.get(APP_STACK, {}).get(names.OUTPUT_SITE_DISTRIBUTION_ID)
    if not value:
        raise SystemExit(f"error: {path} names no {names.OUTPUT_SITE_DISTRIBUTION_ID}: run `{deploy}` again")
    return str(value)


def cloudfront(config: AppConfig) -> Any:
    if config.is_local:
        return emulator_client("cloudfront", config)
    return boto3.client("cloudfront", region_name=config.region)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", nargs="+", default=["/*"], help="paths to invalidate (default: /*)")
    parser.add_argument("--no-wait", action="store_true", help="return once CloudFront accepted the invalidation")
    args = parser.parse_args(argv)
    if any(not path.startswith("/") for path in args.paths):
        parser.error("every path starts with '/', e.g. /* or /index.html")
    try:
        config = load_config()
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    target = distribution_id(config)
    client = cloudfront(config)
    created = client.create_invalidation(
        DistributionId=target,
        InvalidationBatch={
            "Paths": {"Quantity": len(args.paths), "Items": args.paths},
            "CallerReference": f"make-invalidate-{uuid.uuid4()}",
        },
    )["Invalidation"]
    print(f"==> invalidation {created['Id']} of {' '.join(args.paths)} on {target}: {created['Status']}", flush=True)
    if args.no_wait:
        return 0
    started = time.monotonic()
    status = created["Status"]
    # AWS says "Completed"; the emulator "COMPLETED".
    while status.lower() != "completed":
        if time.monotonic() - started > MAX_WAIT_SECONDS:
            print(f"error: still {status} after {MAX_WAIT_SECONDS} s; it goes on without us", file=sys.stderr)
            return 1
        time.sleep(POLL_SECONDS)
        status = client.get_invalidation(DistributionId=target, Id=created["Id"])["Invalidation"]["Status"]
        print(f"    {status} after {time.monotonic() - started:.0f} s", flush=True)
    print(f"==> invalidation {created['Id']} completed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
