"""Where does a command's CPU time go? Runs it, samples every process meanwhile, and sums CPU seconds by kind.

    .venv/bin/python -m bench.cpu_profile [--interval S] -- make test

``make test`` is CPU-bound on a two-core machine, so its wall time is bounded
below by its CPU time over the cores: this says which tools spend it. It counts
every process of the machine, not only the command's (the emulator a test starts
outlives its parent): run it on an otherwise idle machine. Every
``--interval`` seconds (default 0.5) it reads ``/proc/<pid>/stat`` of every
process: its user and system time, and, the first time it is seen, its command
line, which gives its kind (``kind()``: Terraform by subcommand, the AWS
provider by the Terraform subcommand that started it, the emulator, the
browser, the synth's node and Python, the test workers...). A process that
lived shorter than one interval may be missed, and the time since the last
sample of a process that ended is lost; processes that were running before the
command started count only what they spent after. The command's own exit
status is this one's.

Prints the table (CPU seconds, processes, kind), the total, the wall time, and
the total over the wall time: the cores the command kept busy on average.
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.footer import run_facts

TICKS = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")


def terraform_subcommand(argv: Sequence[str]) -> str:
    """``plan``, ``apply``, ``state pull``...: the first words of a Terraform command line that are not options."""
    words = [word for word in argv[1:] if not word.startswith("-")]
    return " ".join(words[:2]) if words[:1] == ["state"] else (words[0] if words else "?")


def kind(argv: Sequence[str], parent: Sequence[str] = ()) -> str:
    """What a process is, from its command line (and its parent's, for the AWS provider)."""
    line = " ".join(argv)
    program = Path(argv[0]).name if argv else ""
    if program.startswith("terraform-provider-aws"):
        started_by = terraform_subcommand(parent) if parent and Path(parent[0]).name == "terraform" else "?"
        return f"aws provider (terraform {started_by})"
    if program == "terraform":
        return f"terraform {terraform_subcommand(argv)}"
    rules = (
        ("moto_server", "emulator (moto server)"),
        ("local.edge", "local edge"),
        ("awslambda/runtime.py", "function worker (Lambda runtime)"),
        ("checkov", "checkov"),
        ("chrom", "chromium"),
        ("pipeline.synth", "synth (python)"),
        ("main.py", "synth (python)"),
        ("jsii", "node (jsii, cdktf CLI)"),
        ("mypy", "mypy"),
        ("ruff", "ruff"),
    )
    for needle, name in rules:
        if needle in line:
            return name
    if program.startswith("node"):
        return "node (jsii, cdktf CLI)"
    if "pytest" in line or "xdist" in line or " -u -c " in f" {line} ":
        return "pytest (runtime's Python)" if ".venv-runtime" in line or "python3.13" in program else "pytest"
    if program.startswith("python"):
        module = next((argv[i + 1] for i, word in enumerate(argv[:-1]) if word == "-m"), "")
        return f"python -m {module}" if module else "python (other)"
    return program or "?"


@dataclass
class Seen:
    kind: str
    first: float
    last: float


@dataclass
class Sampler:
    """Every process's CPU seconds, sampled until stopped."""

    interval: float
    seen: dict[str, Seen] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def sample(self, *, before_start: bool = False) -> None:
        for entry in PROC.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                cpu = (int(fields[11]) + int(fields[12])) / TICKS
                key = f"{entry.name}:{fields[19]}"  # pid and start time: a reused pid is another process
                if key in self.seen:
                    self.seen[key].last = cpu
                    continue
                argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
                if not argv:
                    continue  # a kernel thread, or a process that just ended
                parent = (PROC / fields[1] / "cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
            except (OSError, IndexError, ValueError):
                continue
            # A process already running counts from now on; one started since, from its start.
            self.seen[key] = Seen(kind(argv, parent), cpu if before_start else 0.0, cpu)

    def run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def stop(self) -> None:
        self._stop.set()

    def totals(self, exclude: int) -> tuple[dict[str, float], collections.Counter[str]]:
        seconds: dict[str, float] = collections.defaultdict(float)
        processes: collections.Counter[str] = collections.Counter()
        for key, process in self.seen.items():
            if key.split(":")[0] == str(exclude):
                continue
            seconds[process.kind] += process.last - process.first
            processes[process.kind] += 1
        return seconds, processes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between samples (default 0.5)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command to profile, after --")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to profile after --, e.g. -- make test")
    if args.interval <= 0:
        parser.error("--interval must be positive")
    started, load = time.monotonic(), os.getloadavg()[0]
    sampler = Sampler(args.interval)
    sampler.sample(before_start=True)
    thread = threading.Thread(target=sampler.run, daemon=True)
    thread.start()
    try:
        status = subprocess.run(command, check=False).returncode
    finally:
        sampler.stop()
        thread.join()
        sampler.sample()
    wall = time.monotonic() - started
    seconds, processes = sampler.totals(exclude=os.getpid())
    total = sum(seconds.values())
    print(f"\nCPU time of `{' '.join(command)}` (exit status {status}), by kind of process:")
    print(f"{'CPU s':>9} {'share':>6} {'processes':>9}  kind")
    for name, spent in sorted(seconds.items(), key=lambda item: -item[1]):
        if spent >= 0.05:
            print(f"{spent:>9.1f} {spent / total:>6.1%} {processes[name]:>9}  {name}")
    print(f"{total:>9.1f} {'':>6} {sum(processes.values()):>9}  total")
    print(f"\n{total:.0f} s of CPU in {wall:.0f} s: {total / wall:.2f} of {os.cpu_count()} cores busy on average")
    print(run_facts(started, load))
    return status


if __name__ == "__main__":
    sys.exit(main())
