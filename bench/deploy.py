"""How long does `make up` take against an empty emulator, and a rerun with nothing changed?

Each measurement runs the real script (``local/up.sh``, what ``make up`` runs
after set-up) on a private emulator port, state directory and edge ports
(``bench/local_system.py``), all stopped at the end, so a running ``make up``
of the developer is never touched:

1. **from empty**: a fresh emulator, the synth, both applies (the application
   apply starts as soon as the state bucket exists), the summary;
2. **rerun**: ``make up`` again at once: synth skipped, both stacks re-planned,
   nothing applied;
3. **floor** (the baseline, measured in the same run because these machines
   are noisy): a fresh emulator and one ``terraform apply`` of the bootstrap
   stack alone (7 resources, one ``aws_s3_bucket_lifecycle_configuration``).
   No deploy from empty can beat it: the AWS provider waits ~55 s after every
   lifecycle configuration it writes, against AWS as against the emulator.

It prints each wall time, the ratio of (1) to (3), and, from Terraform's own
output ("Creation complete after Ns"), the slowest resources of (1).

Run from the project root after ``make setup``: ``.venv/bin/python -m bench.deploy``.
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import sys
import tempfile
from pathlib import Path

from bench.local_system import BenchError, LocalSystem, PrivateEmulator, timed
from config.settings import BOOTSTRAP_STACK, EMULATOR_CREDENTIALS

_DONE = re.compile(r"^(?P<address>[\w.-]+): Creation complete after (?:(?P<m>\d+)m)?(?P<s>\d+)s")


def creation_times(log: Path) -> dict[str, int]:
    """Seconds each resource took to create, as Terraform reported it."""
    times = {}
    for line in log.read_text(encoding="utf-8").splitlines():
        match = _DONE.match(line)
        if match:
            times[match["address"]] = int(match["m"] or 0) * 60 + int(match["s"])
    return times


def floor(base: Path) -> float:
    """A fresh emulator and one apply of the bootstrap stack alone: the fixed cost of any deploy from empty."""
    emulator = PrivateEmulator(base, settings={"DEPLOY_TARGET": "local"})
    env = {**emulator.env, **EMULATOR_CREDENTIALS}
    try:
        outdir = emulator.config.emulator_state_dir / "cdktf.out"
        timed([sys.executable, "-m", "pipeline.synth", "--outdir", str(outdir)], env)
        emulator.start()
        stack_dir = outdir / "stacks" / BOOTSTRAP_STACK
        timed(["terraform", "init", "-input=false", "-no-color"], env, cwd=stack_dir)
        return timed(["terraform", "apply", "-auto-approve", "-input=false", "-no-color"], env, cwd=stack_dir)
    finally:
        emulator.stop()


def measure(base: Path) -> tuple[float, float, dict[str, int], float]:
    """Seconds of ``make up`` from empty and again, each resource's creation time, and the floor's seconds."""
    # make up's whole system on free ports (the edge's too) and stopped after: a developer's make up is untouched.
    system = LocalSystem(base / "up", limits={})
    try:
        print("measuring: make up from an empty emulator ...", flush=True)
        from_empty = system.up()
        times = {}
        for log in sorted((system.config.emulator_state_dir / "logs").glob("*.apply.log")):
            times.update({f"{log.name.split('.')[0]}: {k}": v for k, v in creation_times(log).items()})
        print("measuring: make up again, nothing changed ...", flush=True)
        rerun = system.up()
    finally:
        system.stop()
    print("measuring: the floor (one apply of the bootstrap stack, fresh emulator) ...", flush=True)
    return from_empty, rerun, times, floor(base / "floor")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slowest", type=int, default=8, help="how many of the slowest resources to list")
    args = parser.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="bench-deploy-"))
    try:
        from_empty, rerun, times, baseline = measure(base)
    except BenchError as error:
        print(f"FAIL: {error}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(base, ignore_errors=True)

    print(f"\n{'measurement':<44} {'seconds':>8} {'x floor':>8}")
    for name, seconds in (
        ("make up, empty emulator", from_empty),
        ("make up again, nothing changed", rerun),
        ("floor: bootstrap stack alone, one apply", baseline),
    ):
        print(f"{name:<44} {seconds:>8.1f} {seconds / baseline:>8.2f}")
    by_type = collections.Counter(address.split(": ")[1].split(".")[0] for address in times)
    print(f"\nresources created: {len(times)} in {len(by_type)} types; slowest, from Terraform's own output:")
    for address, seconds in sorted(times.items(), key=lambda item: -item[1])[: args.slowest]:
        print(f"  {seconds:>4d} s  {address}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
