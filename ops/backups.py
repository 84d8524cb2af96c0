"""``make backups``: lists the backups in the emulator; downloads one's objects into <state dir>/downloads.

    .venv/bin/python -m ops.backups [--download NAME|latest]

Apart from ``backup_now``, which writes a backup: this only reads the backup
bucket.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from config.settings import AppConfig
from lambdas.common import names
from local.deploy import emulator_client
from ops.local_system import OpsError, outputs, run_operation


def backups(config: AppConfig, download: str | None) -> None:
    """Each backup run with its objects (items, CSV, manifest), oldest first; optionally download one run."""
    bucket = outputs(config)[names.OUTPUT_BACKUP_BUCKET]
    s3 = emulator_client("s3", config)
    objects = [
        item
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=names.BACKUP_PREFIX)
        for item in page.get("Contents", [])
    ]
    runs: dict[str, list[dict[str, Any]]] = {}
    for item in sorted(objects, key=lambda item: item["Key"]):
        runs.setdefault(_run_name(item["Key"]), []).append(item)
    for run, items in runs.items():
        print(f"  {run}")
        for item in items:
            print(f"    {item['LastModified']:%Y-%m-%d %H:%M:%S}  {item['Size']:>9} B  s3://{bucket}/{item['Key']}")
    print(
        f"==> {len(runs)} backup(s), {len(objects)} object(s) in {bucket}; restore one with: "
        "make restore BACKUP=<backup name>"
    )
    if download:
        if not runs:
            raise OpsError("there is no backup to download: run `make backup-now` first")
        run = max(runs) if download == "latest" else _run_name(download)
        if run not in runs:
            raise OpsError(f"no backup {run} in {bucket}: `make backups` lists them")
        target_dir = config.emulator_state_dir / "downloads"
        target_dir.mkdir(parents=True, exist_ok=True)
        for item in runs[run]:
            target = target_dir / Path(item["Key"]).name
            s3.download_file(bucket, item["Key"], str(target))
            print(f"==> downloaded s3://{bucket}/{item['Key']} to {target}")


def _run_name(key: str) -> str:
    """``backup-<run id>``: a backup's objects share it, before their suffix."""
    return Path(key).name.split(".", 1)[0]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--download", metavar="NAME", help="a backup's name or key, or 'latest'")
    args = parser.parse_args(argv)
    return run_operation(lambda config: backups(config, args.download))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
