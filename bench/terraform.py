"""What does one start of the AWS provider cost, with Go's default garbage collector and with the project's?

Every Terraform command that needs the AWS provider's schema (validate, plan,
apply, show -json, destroy: three or four starts for a plan or an apply) has the
provider build the schema of ~1,800 resource types, and Terraform decode it. Both
are Go programs; the project's Makefile sets ``GOGC`` for them (``export GOGC ?=``),
so they collect garbage less often. This measures that choice on one command,
``terraform validate`` of the synthesized application stack (offline; one provider
start, the schema read whole), in two cases run alternately:

- ``go-default``: ``GOGC=100``, Go's default (the baseline);
- ``project``: the Makefile's ``GOGC``.

For each: wall time, CPU time (user + system of Terraform and the provider it
started: ``wait4``'s usage of the process tree), and the largest resident set
among them. The suite and ``make up`` are CPU-bound on two cores, so the CPU time
is the figure that matters. A failed command fails the benchmark; the timings
never do.

Run from the project root: ``.venv/bin/python -m bench.terraform [--runs N]``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.footer import run_facts
from bench.local_system import BenchError, timed
from config.settings import APP_STACK, PROJECT_ROOT
from tests.conftest import tool_env

PYTHON = PROJECT_ROOT / ".venv" / "bin" / "python"
GO_DEFAULT = "100"


def project_gogc(makefile: Path = PROJECT_ROOT / "Makefile") -> str:
    """The ``GOGC`` the Makefile exports (``export GOGC ?= N``)."""
    match = re.search(r"^export GOGC \?= (\d+)$", makefile.read_text(encoding="utf-8"), re.MULTILINE)
    if match is None:
        raise BenchError(f"{makefile} exports no GOGC ('export GOGC ?= N')")
    return match.group(1)


@dataclass
class Case:
    name: str
    gogc: str
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    peak_rss_bytes: list[int] = field(default_factory=list)


def environment() -> dict[str, str]:
    """The tests' tool environment (no AWS credentials, the project's Terraform configuration), for aws, without a
    ``GOGC`` of the caller's: each case sets its own."""
    env = tool_env(DEPLOY_TARGET="aws")
    env.pop("GOGC", None)
    return env


def prepare(scratch: Path, env: dict[str, str]) -> Path:
    """The application stack synthesized for aws and initialised without its backend: a directory to validate."""
    print("==> synthesizing the stacks and initialising the application stack (no backend)", flush=True)
    outdir = scratch / "cdktf.out"
    timed([str(PYTHON), "-m", "pipeline.synth", "--force", "--outdir", str(outdir)], env)
    stack = scratch / APP_STACK
    shutil.copytree(outdir / "stacks" / APP_STACK, stack)
    timed(["terraform", "init", "-backend=false", "-input=false", "-no-color"], env, cwd=stack)
    return stack


def run_once(case: Case, stack: Path, env: dict[str, str], *, label: str) -> None:
    """One ``terraform validate`` of ``case``, recorded unless it is the warm-up."""
    # Errors to a file, not a pipe: nothing reads a pipe until wait4 returns, and a full one would block Terraform.
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(
            ["terraform", "validate", "-no-color"],
            cwd=stack,
            env={**env, "GOGC": case.gogc},
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        # wait4: the usage of terraform and of the children it reaped (the provider).
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            tail = errors.read().decode(errors="replace")[-3000:]
            raise BenchError(f"terraform validate ({case.name}, GOGC={case.gogc}) failed:\n{tail}")
    cpu, peak = usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024  # Linux reports kibibytes
    print(
        f"  {case.name:<10} GOGC={case.gogc:<4} {label:<8} {wall:6.2f} s wall {cpu:6.2f} s CPU {peak / 2**20:6.0f} MiB",
        flush=True,
    )
    if label != "warm-up":
        case.wall.append(wall)
        case.cpu.append(cpu)
        case.peak_rss_bytes.append(peak)


def report(cases: Sequence[Case], runs: int) -> None:
    print(f"\nterraform validate of {APP_STACK}, {runs} runs each after one warm-up, alternating")
    header = f"{'case':<10} {'GOGC':>5} {'median wall s':>14} {'median CPU s':>13} {'peak RSS MiB':>13}"
    print(header)
    print("-" * len(header))
    for case in cases:
        print(
            f"{case.name:<10} {case.gogc:>5} {statistics.median(case.wall):>14.2f} {statistics.median(case.cpu):>13.2f}"
            f" {max(case.peak_rss_bytes) / 2**20:>13.0f}"
        )
    default, project = cases
    cpu = statistics.median(project.cpu) / statistics.median(default.cpu)
    wall = statistics.median(project.wall) / statistics.median(default.wall)
    rss = max(project.peak_rss_bytes) - max(default.peak_rss_bytes)
    print(
        f"\nproject vs go-default: {cpu:.2f}x the CPU time, {wall:.2f}x the wall time,"
        f" {rss / 2**20:+.0f} MiB peak RSS per Terraform or provider process"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each case after the warm-up (default 5)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    started, load = time.monotonic(), os.getloadavg()[0]
    env = environment()
    try:
        cases = [Case("go-default", GO_DEFAULT), Case("project", project_gogc())]
        with tempfile.TemporaryDirectory(prefix="bench-terraform-") as scratch:
            stack = prepare(Path(scratch), env)
            for round_number in range(args.runs + 1):
                # Round 0 warms the caches (the file system's, the provider binary's pages) and is not counted;
                # every other round runs the cases in the other order.
                label = "warm-up" if round_number == 0 else f"run {round_number}"
                for case in cases if round_number % 2 else reversed(cases):
                    run_once(case, stack, env, label=label)
    except BenchError as error:
        print(f"FAIL: {error}", file=sys.stderr)
        return 1
    report(cases, args.runs)
    print(run_facts(started, load))
    return 0


if __name__ == "__main__":
    sys.exit(main())
