"""Applies both synthesized stacks into the running local emulator, the two applies overlapped.

    .venv/bin/python -m local.deploy --outdir DIR

The application stack keeps its state in the bucket the bootstrap stack
creates, so it cannot start before that bucket exists. It need not wait for
the rest of the bootstrap apply, though: each ``aws_s3_bucket_lifecycle_configuration``
makes the AWS provider wait ~55 s after writing it (its own waiter, the same
against AWS), and the bootstrap stack has one. So the bootstrap apply starts,
the application apply starts as soon as the state bucket answers, and the two
waits run side by side instead of one after the other. A rerun against the
same running emulator skips the bootstrap stack when its configuration is the
one last applied there, and plans the application stack (see start_bootstrap).

``terraform init`` runs only when a stack's ``terraform`` block (backend and
providers) changed since the last init of that directory. Each apply's full
output is kept in ``<emulator_state_dir>/logs/<stack>.apply.log``; progress
lines are echoed with the stack's name, and a failure prints the log's end.
Writes every stack's outputs to ``DIR/outputs.json`` (``{stack: {name: value}}``,
the format of ``cdktf deploy --outputs-file``) and its resources' addresses to
``DIR/resources.json`` (``{stack: [address]}``), both read from one ``terraform state
pull`` per stack, the bootstrap stack's while the application apply runs.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import re
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any, cast

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from config.settings import APP_STACK, BOOTSTRAP_STACK, EMULATOR_CREDENTIALS, AppConfig, load_config

#: The emulator answers many requests at once; Terraform's default of 10
#: concurrent operations leaves most of an apply's resources queued.
PARALLELISM = 32
#: Lines of Terraform's apply output worth showing while it runs.
PROGRESS = re.compile(
    r": (Creating|Creation complete|Modifying|Modifications complete|Destroying|Destruction complete)"
    r"|: Still (creating|modifying|destroying)\.\.\. \[\d*[05]0s elapsed\]"
    r"|^(Apply complete!|No changes\.)"
)
INIT_STAMP = ".terraform/student-mgmt-init.sha256"
#: Beside outputs.json: each stack's resource addresses, for local/summary.py.
RESOURCES_FILE = "resources.json"
APPLIED_STAMP = ".terraform/student-mgmt-applied"
POLL_SECONDS = 0.25


class DeployError(RuntimeError):
    """An apply failed; the message says which stack and where its log is."""


def terraform_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_PROFILE", "AWS_SESSION_TOKEN")}
    return {**env, **EMULATOR_CREDENTIALS, "TF_IN_AUTOMATION": "1"}


def ensure_init(stack_dir: Path, env: dict[str, str]) -> None:
    """``terraform init`` unless this directory was initialised for the same backend and providers."""
    block = json.loads((stack_dir / "cdk.tf.json").read_text(encoding="utf-8"))["terraform"]
    wanted = hashlib.sha256(json.dumps(block, sort_keys=True).encode()).hexdigest()
    stamp = stack_dir / INIT_STAMP
    if stamp.is_file() and stamp.read_text() == wanted and (stack_dir / ".terraform.lock.hcl").is_file():
        return
    # -reconfigure: the directory may have been initialised for another
    # emulator port or target; nothing is migrated, the state stays where it is.
    result = subprocess.run(
        ["terraform", "init", "-input=false", "-no-color", "-reconfigure"],
        cwd=stack_dir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise DeployError(f"terraform init failed in {stack_dir}:\n{result.stdout}{result.stderr}")
    stamp.write_text(wanted)


class Apply:
    """One ``terraform apply -auto-approve`` running in the background, its output logged and echoed."""

    def __init__(self, stack: str, stack_dir: Path, log_dir: Path, env: dict[str, str]) -> None:
        self.stack = stack
        self.log = log_dir / f"{stack}.apply.log"
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            ["terraform", "apply", "-auto-approve", "-input=false", "-no-color", f"-parallelism={PARALLELISM}"],
            cwd=stack_dir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        stdout = cast(IO[str], self.process.stdout)  # set: stdout=PIPE
        self._reader = threading.Thread(target=self._follow, args=(stdout,), daemon=True)
        self._reader.start()

    def _follow(self, stream: IO[str]) -> None:
        with self.log.open("w", encoding="utf-8") as log:
            for line in stream:
                log.write(line)
                if PROGRESS.search(line):
                    print(f"  [{self.stack}] {line.rstrip()}", flush=True)

    def done(self) -> bool:
        return self.process.poll() is not None

    def wait(self) -> float:
        """Seconds the apply took; raises DeployError when it failed."""
        self.process.wait()
        self._reader.join()
        elapsed = time.monotonic() - self.started
        if self.process.returncode != 0:
            lines = self.log.read_text(encoding="utf-8").splitlines()
            start = next((i for i, line in enumerate(lines) if "Error:" in line), max(len(lines) - 40, 0))
            tail = "\n".join(lines[max(start - 2, 0) :][:80])
            raise DeployError(
                f"terraform apply of {self.stack} failed after {elapsed:.0f} s (log: {self.log}):\n{tail}"
            )
        return elapsed


def emulator_client(service: str, config: AppConfig, *, credentials: tuple[str, str, str] | None = None) -> Any:
    """A boto3 client of the emulator: its endpoint, its CA, and its (non-secret) administrator's credentials,
    or ``credentials`` (access key id, secret, session token: a role's, as a service acting as the role)."""
    key, secret, token = credentials or (
        EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        None,
    )
    make_client: Callable[..., Any] = boto3.client  # the stubs type one literal service name at a time
    return make_client(
        service,
        endpoint_url=config.emulator_endpoint,
        region_name=config.region,
        verify=str(config.emulator_ca_bundle),
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
    )


def emulator_route(config: AppConfig, route: str, body: Mapping[str, Any] | None = None) -> Any:
    """The JSON answer of one of the emulator's own routes (local/emulator/moto_server.py), over its HTTPS: a GET,
    or a POST of ``body``. Raises what urllib raises (``HTTPError`` for an answer that is not 2xx)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - the emulator's https URL
        f"{config.emulator_endpoint}{route}", data=data, method="POST" if data is not None else "GET"
    )
    tls = ssl.create_default_context(cafile=str(config.emulator_ca_bundle))
    with urllib.request.urlopen(request, timeout=10, context=tls) as answer:  # noqa: S310 - the emulator's https URL
        return json.loads(answer.read())


def wait_for_bucket(bucket: str, config: AppConfig, bootstrap: Apply) -> None:
    """Returns once the state bucket exists; raises when the bootstrap apply ended without it."""
    s3 = emulator_client("s3", config)
    while True:
        try:
            s3.head_bucket(Bucket=bucket)
            return
        except (ClientError, BotoCoreError):
            if bootstrap.done():
                bootstrap.wait()  # raises with the log when it failed
                s3.head_bucket(Bucket=bucket)
                return
        time.sleep(POLL_SECONDS)


def deployed(stack_dir: Path, env: dict[str, str]) -> dict[str, Any]:
    """The stack's outputs (``{name: value}``) and resources (addresses, as ``terraform state list`` writes them),
    from one ``terraform state pull``: no provider start, one read of the state where ``output`` and ``state list``
    were one each."""
    pull = ["terraform", "state", "pull"]
    result = subprocess.run(pull, cwd=stack_dir, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise DeployError(f"terraform state pull failed in {stack_dir}:\n{result.stdout}{result.stderr}")
    state = json.loads(result.stdout)
    addresses = [
        f"{resource['type']}.{resource['name']}"
        + (f"[{json.dumps(instance['index_key'])}]" if "index_key" in instance else "")
        for resource in state.get("resources", [])
        if resource.get("mode") == "managed"
        for instance in resource.get("instances", [])
    ]
    outputs = {name: output["value"] for name, output in state.get("outputs", {}).items()}
    return {"outputs": outputs, "resources": sorted(addresses)}


def emulator_instance(config: AppConfig) -> str | None:
    """Which emulator process this is (pid and start time; None when unknown): a restarted emulator holds nothing."""
    try:
        pid = (config.emulator_state_dir / "moto.pid").read_text().strip()
        # Field 22 of /proc/<pid>/stat, after the parenthesised command name: the start time.
        started = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None
    return f"{pid}:{started}"


def applied_stamp(stack_dir: Path, config: AppConfig) -> str | None:
    """What an apply of this stack to this emulator leaves behind (None: the emulator is unknown)."""
    instance = emulator_instance(config)
    if instance is None:
        return None
    digest = hashlib.sha256((stack_dir / "cdk.tf.json").read_bytes()).hexdigest()
    return f"{digest} {instance}"


def start_bootstrap(stack_dir: Path, config: AppConfig, log_dir: Path, env: dict[str, str]) -> Apply | None:
    """The bootstrap apply, or None when this very configuration was applied to this very emulator.

    The bootstrap stack is the state bucket alone, and the application apply
    reads and locks its state there a moment later: a rerun need not spend a
    plan (three provider starts, ~10 s of CPU) to learn that it is still there.
    The application stack is always planned, so a resource removed by hand
    comes back.
    """
    stamp = stack_dir / APPLIED_STAMP
    applied = applied_stamp(stack_dir, config)
    if applied is not None and stamp.is_file() and stamp.read_text() == applied:
        print(f"==> {BOOTSTRAP_STACK}: unchanged since it was applied to this emulator; not planned again", flush=True)
        return None
    stamp.unlink(missing_ok=True)
    ensure_init(stack_dir, env)
    print(f"==> applying {BOOTSTRAP_STACK}; {APP_STACK} follows as soon as the state bucket exists", flush=True)
    return Apply(BOOTSTRAP_STACK, stack_dir, log_dir, env)


def deploy(outdir: Path, config: AppConfig) -> None:
    env = terraform_env()
    stacks = {stack: outdir / "stacks" / stack for stack in (BOOTSTRAP_STACK, APP_STACK)}
    log_dir = config.emulator_state_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)

    bootstrap = start_bootstrap(stacks[BOOTSTRAP_STACK], config, log_dir, env)
    try:
        if bootstrap is not None:
            wait_for_bucket(config.state_bucket, config, bootstrap)
            print(f"==> state bucket {config.state_bucket} is there: applying {APP_STACK}", flush=True)
        ensure_init(stacks[APP_STACK], env)
        app = Apply(APP_STACK, stacks[APP_STACK], log_dir, env)
    except DeployError:
        # Never leave the bootstrap apply behind, half done and holding its state.
        if bootstrap is not None:
            bootstrap.process.wait()
        raise
    failures = []
    found: dict[str, dict[str, Any]] = {}
    for stack, apply in ((BOOTSTRAP_STACK, bootstrap), (APP_STACK, app)):
        try:
            if apply is not None:
                print(f"==> {apply.stack}: applied in {apply.wait():.0f} s", flush=True)
            # Read at once: the bootstrap stack's while the application apply still runs.
            found[stack] = deployed(stacks[stack], env)
        except DeployError as error:
            failures.append(str(error))
    if failures:
        raise DeployError("\n\n".join(failures))
    applied = applied_stamp(stacks[BOOTSTRAP_STACK], config)
    if bootstrap is not None and applied is not None:
        (stacks[BOOTSTRAP_STACK] / APPLIED_STAMP).write_text(applied)
    outputs = {stack: found[stack]["outputs"] for stack in stacks}
    (outdir / "outputs.json").write_text(json.dumps(outputs, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    resources = {stack: found[stack]["resources"] for stack in stacks}
    (outdir / RESOURCES_FILE).write_text(json.dumps(resources, indent=2) + "\n", encoding="utf-8")


def exclusive(config: AppConfig) -> IO[str]:
    """Holds the emulator's deploy lock: two deploys at once would race for the state and share log files."""
    config.emulator_state_dir.mkdir(parents=True, exist_ok=True)
    lock = (config.emulator_state_dir / "deploy.lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise DeployError(
            f"another 'make up' is deploying into the emulator of {config.emulator_state_dir}; "
            "let it finish, then run 'make up' again"
        ) from None
    return lock


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", type=Path, required=True, help="the local environment's synthesized output")
    args = parser.parse_args(argv)
    config = load_config()
    if not config.is_local:
        print(
            f"error: local.deploy deploys into the emulator only, not into {config.environment}'s AWS account:"
            " run it without ENV",
            file=sys.stderr,
        )
        return 2
    try:
        with exclusive(config):
            deploy(args.outdir.resolve(), config)
    except DeployError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
