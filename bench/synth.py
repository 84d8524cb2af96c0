"""How long does one synth take, and how much of it do the provider bindings cost?

Three apps, each run as a fresh process (``python ...`` in the project root,
as ``cdktf synth`` runs the app) into its own output directory:

- ``fast``: the project's synth, ``python main.py``, with the provider
  bindings loaded on demand (``engine/provider_bindings.py``);
- ``plain``: the same with ``STUDENT_MGMT_PLAIN_BINDINGS=1``: every one of
  the 2,212 binding modules loaded up front, in Python and in node, as before;
- ``floor``: a one-resource stack (``cdktf``, the AWS provider and one bucket,
  on demand): what any synth with these libraries costs, whatever it builds.

Each app runs once to warm the caches (the file system's, the jsii package
cache), then ``--runs`` times, interleaved so that a change of machine load
hits all three alike. Wall time is spawn to exit; peak RSS is the largest
resident set of the process tree (``wait4``: the app's Python process or the
node processes it waited for, whichever is larger).

Every output of ``fast`` must be byte-identical to ``plain``'s, asset zips
included. The exit status is 1 when one differs or a run fails; timings never
fail the benchmark.

Run from the project root: ``.venv/bin/python -m bench.synth``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from config.settings import PROJECT_ROOT
from engine.provider_bindings import ENV_PLAIN

PYTHON = PROJECT_ROOT / ".venv" / "bin" / "python"
#: The smallest app using the same libraries the same way (bindings on demand).
FLOOR_APP = """
from engine import provider_bindings
provider_bindings.install()
from engine.cdk import App, TerraformStack
from engine.aws.provider import AwsProvider
from engine.aws.s3_bucket import S3Bucket
app = App()
stack = TerraformStack(app, "floor")
AwsProvider(stack, "aws", region="us-east-1")
S3Bucket(stack, "bucket", bucket="student-management-bench-floor")
app.synth()
"""

Tree = dict[str, bytes | None]


@dataclass(frozen=True)
class Case:
    name: str
    argv: list[str]
    env: dict[str, str]
    #: Compared with the reference output (the plain synth's).
    compared: bool


@dataclass
class Measurements:
    case: Case
    seconds: list[float] = field(default_factory=list)
    peak_rss_bytes: list[int] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


class RunFailedError(Exception):
    pass


def environment(target: str) -> dict[str, str]:
    """The caller's environment with settings every run shares; no AWS credentials reach the apps."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != ENV_PLAIN}
    env.update(
        DEPLOY_TARGET=target,
        CHECKPOINT_DISABLE="1",
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
        JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION="1",
    )
    return env


def cases(target: str) -> list[Case]:
    env = environment(target)
    return [
        Case("fast", [str(PYTHON), "main.py"], env, compared=True),
        Case("plain", [str(PYTHON), "main.py"], {**env, ENV_PLAIN: "1"}, compared=True),
        Case("floor", [str(PYTHON), "-c", FLOOR_APP], env, compared=False),
    ]


def run_once(case: Case, outdir: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS bytes of one run of ``case`` writing into ``outdir``."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(
            case.argv,
            cwd=PROJECT_ROOT,
            env={**case.env, "CDKTF_OUTDIR": str(outdir)},
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        # wait4, not wait: the rusage of the process and of the children it reaped (node).
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            tail = errors.read().decode(errors="replace")[-3000:]
            raise RunFailedError(f"{case.name} exited with {process.returncode}:\n{tail}")
    return seconds, usage.ru_maxrss * 1024  # Linux reports kibibytes


def read_tree(root: Path) -> Tree:
    """Every directory (None) and file (its bytes) under ``root``, by relative path."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes() if path.is_file() else None
        for path in sorted(root.rglob("*"))
    }


def differences(left: Mapping[str, bytes | None], right: Mapping[str, bytes | None]) -> list[str]:
    return sorted(path for path in left.keys() | right.keys() if left.get(path) != right.get(path))


def measure(all_cases: Sequence[Case], runs: int) -> tuple[list[Measurements], list[str]]:
    """Every case once to warm up, then ``runs`` rounds; the measurements and any output differences."""
    results = [Measurements(case) for case in all_cases]
    reference: Tree | None = None
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as scratch:
        # The plain synth first: its output is what the others are compared with.
        order = sorted(results, key=lambda m: m.case.name != "plain")
        for round_number in range(runs + 1):
            for result in order:
                outdir = Path(scratch) / f"{result.case.name}-{round_number}"
                seconds, peak = run_once(result.case, outdir)
                label = "warm-up" if round_number == 0 else f"run {round_number}/{runs}"
                print(f"  {result.case.name:<6} {label:<10} {seconds:7.2f} s {peak / 2**20:8.0f} MiB", flush=True)
                if round_number > 0:
                    result.seconds.append(seconds)
                    result.peak_rss_bytes.append(peak)
                if result.case.compared:
                    tree = read_tree(outdir)
                    if reference is None:
                        reference = tree
                    elif changed := differences(reference, tree):
                        problems.append(f"{result.case.name} ({label}) differs from plain in: {', '.join(changed)}")
    return results, problems


def report(results: Sequence[Measurements], runs: int, target: str) -> None:
    by_name = {result.case.name: result for result in results}
    print()
    print(f"DEPLOY_TARGET={target}, {runs} runs each after one warm-up")
    header = f"{'app':<6} {'median s':>9} {'min s':>7} {'max s':>7} {'peak RSS MiB':>13}"
    print(header)
    print("-" * len(header))
    for result in results:
        print(
            f"{result.case.name:<6} {result.median:>9.2f} {min(result.seconds):>7.2f} {max(result.seconds):>7.2f}"
            f" {max(result.peak_rss_bytes) / 2**20:>13.0f}"
        )
    fast, plain, floor = by_name["fast"], by_name["plain"], by_name["floor"]
    print()
    print(
        f"fast vs plain: {plain.median / fast.median:.1f}x faster (median {fast.median:.2f} s vs {plain.median:.2f} s),"
        f" peak RSS {max(fast.peak_rss_bytes) / max(plain.peak_rss_bytes):.2f}x"
    )
    print(
        f"fast vs floor: {fast.median / floor.median:.2f}x the floor's time"
        f" (+{fast.median - floor.median:.2f} s to build and write this project's two stacks)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each app after the warm-up (default 5)")
    parser.add_argument(
        "--target",
        choices=("aws", "local"),
        default=os.environ.get("DEPLOY_TARGET", "aws"),
        help="DEPLOY_TARGET of the synths (default: $DEPLOY_TARGET, else aws)",
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    try:
        results, problems = measure(cases(args.target), args.runs)
    except RunFailedError as error:
        print(f"FAIL: {error}", file=sys.stderr)
        return 1
    report(results, args.runs, args.target)
    if problems:
        print()
        for problem in problems:
            print(f"FAIL: {problem}")
        return 1
    print("\nPASS: every fast output is byte-identical to the plain one")
    return 0


if __name__ == "__main__":
    sys.exit(main())
