"""Should the function zips carry the SDK? Their size, and the cold import time of each handler.

The deployed zips carry no SDK: each function imports the boto3/botocore the
AWS Lambda python3.13 runtime bundles. The alternative is to ship the SDK
pinned in ``requirements.lock`` (boto3, botocore, s3transfer, jmespath,
python-dateutil, six, urllib3) in every zip, or once in a layer. This script
measures what that would cost, for each of the three functions, in one run:

1. **runtime SDK** (the baseline, what is deployed): the zip as
   ``modules/functions/python_function.py`` stages it (``lambdas/__init__.py``,
   ``lambdas/common`` and the function's own package; no ``.pyc``; every file
   time stamped 2020-01-01), imported by ``.venv-runtime``'s Python 3.13 with
   the SDK of its site-packages (1.38.46, standing for the runtime's). That SDK
   is imported from precompiled bytecode, as the runtime's is: one uncounted
   run writes its ``.pyc`` first;
2. **SDK in zip**: the same zip plus the pinned SDK (``pip install --no-deps
   --no-compile --target``, as one would build it), first on ``sys.path``, so
   it shadows the site-packages one. Lambda extracts a zip into ``/var/task``,
   which is read-only: Python cannot write ``__pycache__`` there, so a zip
   without bytecode compiles every module of botocore it imports on every cold
   start. The child runs with ``-B`` (no bytecode written) and the extracted
   directory must hold no ``__pycache__``;
3. **SDK in zip, .pyc**: the same with the SDK precompiled before zipping,
   by the runtime's interpreter (the ``cpython-313`` tag Lambda's Python looks
   for) and with ``unchecked-hash`` bytecode, valid whatever time stamps the
   extraction gives the files. The function's own code stays without bytecode
   in all three, as deployed, so only the SDK differs.

For each it prints the zip's size and its unzipped size (which Lambda holds to
250 MB, layers included; a zip uploaded directly to 50 MB) and the median over
``--rounds`` of two times taken in a fresh interpreter (the Lambda init phase,
``-I``: ``sys.path`` is the extracted zip, then the interpreter's own):
importing the handler module, and then creating the DynamoDB client through
``lambdas.common.aws`` (every function's first call does; it loads the
service model and the rest of botocore, so it belongs to the cold start too).
Ratios are to the baseline of the same function in the same run. A layer
holds the same files under ``/opt/python``, read-only too, and counts toward
the same 250 MB: its import times are the "SDK in zip" rows; only the upload
would be shared.

The figures are this machine's: Lambda's CPU share at 128 MB is a fraction of
a core, so every second here is several there; the ratios are the result.
Timings never fail the run: exit 0 with the table, 1 when something cannot be
measured (no runtime interpreter, pip cannot install the pins, a handler does
not import, or a child imported botocore from the wrong place).

Run from the project root after ``make setup``: ``.venv/bin/python -m bench.functions``
(under 2 minutes); ``--quick`` for one round.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bench.footer import run_facts
from config.settings import PROJECT_ROOT
from modules.functions.catalog import FUNCTIONS, FunctionSpec  # stdlib only, unlike modules.functions.python_function
from modules.functions.packaging import stage, write_zip

LOCK_FILE: Final = PROJECT_ROOT / "requirements.lock"
#: The functions' interpreter and SDK as the Lambda runtime has them (requirements-runtime.txt).
RUNTIME_PYTHON: Final = PROJECT_ROOT / ".venv-runtime" / "bin" / "python"
#: What the python3.13 runtime bundles, and what shipping the SDK would mean: boto3 and its dependencies.
SDK_PACKAGES: Final = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3")
#: Lambda's quotas: a deployment package uploaded directly, and unzipped (function and layers together).
ZIPPED_LIMIT_BYTES: Final = 50 * 1024 * 1024
UNZIPPED_LIMIT_BYTES: Final = 250 * 1024 * 1024
DEFAULT_ROUNDS: Final = 5
MIB: Final = 1024 * 1024
#: Cold starts within this fraction of each other count as the same (a shared machine's noise).
SAME: Final = 0.10

#: The variants, baseline first: (name, SDK shipped in the zip, SDK precompiled in the zip).
BASELINE: Final = "runtime SDK"
SHIPPED: Final = "SDK in zip"
SHIPPED_PYC: Final = "SDK in zip, .pyc"
VARIANTS: Final = (BASELINE, SHIPPED, SHIPPED_PYC)

#: Run by the measured interpreter: argv is the extracted zip and the handler module; prints one JSON line.
PROBE: Final = """
import importlib, sys, time
# The Lambda runtime's bootstrap, as in local/edge/awslambda/runtime.py: the task root (the extracted zip) first.
sys.path.insert(0, sys.argv[1])
started = time.perf_counter()
importlib.import_module(sys.argv[2])
imported = time.perf_counter()
from lambdas.common import aws
aws.dynamodb()
client = time.perf_counter()
import botocore
print(__import__("json").dumps({
    "import_s": imported - started, "client_s": client - imported,
    "botocore": botocore.__file__, "version": botocore.__version__,
}))
"""


class BenchError(RuntimeError):
    """Something could not be measured; the message says what."""


@dataclass(frozen=True)
class Package:
    """One deployment package: the zip's size and the sum of its files' sizes."""

    zip_bytes: int
    unzipped_bytes: int


@dataclass(frozen=True)
class Row:
    """One function in one variant: its package and its times over the rounds, seconds."""

    function: str
    variant: str
    package: Package
    import_s: tuple[float, ...]
    client_s: tuple[float, ...]

    @property
    def import_median(self) -> float:
        return median(self.import_s)

    @property
    def client_median(self) -> float:
        return median(self.client_s)


# --- the figures -------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("no values")
    return float(statistics.median(values))


def ratio(value: float, baseline: float) -> float:
    return value / baseline if baseline > 0 else float("inf")


def baseline_of(rows: Sequence[Row], function: str) -> Row:
    return next(row for row in rows if row.function == function and row.variant == BASELINE)


def mib(size: int) -> str:
    return f"{size / MIB:.2f}"


def report(rows: Sequence[Row]) -> list[str]:
    """The table: one row per function and variant, its ratios to that function's baseline."""
    header = (
        f"{'function':<15} {'variant':<17} {'zip MiB':>8} {'unzipped MiB':>12} {'import s':>9} {'x base':>7}"
        f" {'+client s':>9} {'x base':>7} {'cold s':>7} {'x base':>7}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        base = baseline_of(rows, row.function)
        cold, base_cold = row.import_median + row.client_median, base.import_median + base.client_median
        lines.append(
            f"{row.function:<15} {row.variant:<17} {mib(row.package.zip_bytes):>8}"
            f" {mib(row.package.unzipped_bytes):>12} {row.import_median:>9.3f}"
            f" {ratio(row.import_median, base.import_median):>6.2f}x {row.client_median:>9.3f}"
            f" {ratio(row.client_median, base.client_median):>6.2f}x {cold:>7.3f} {ratio(cold, base_cold):>6.2f}x"
        )
    return lines


def limits(rows: Sequence[Row]) -> list[str]:
    """How close the largest package comes to Lambda's size quotas."""
    largest_zip = max(rows, key=lambda row: row.package.zip_bytes)
    largest_tree = max(rows, key=lambda row: row.package.unzipped_bytes)
    return [
        f"Lambda's limits: zipped {mib(ZIPPED_LIMIT_BYTES)} MiB for a direct upload, largest here"
        f" {mib(largest_zip.package.zip_bytes)} MiB ({largest_zip.function}, {largest_zip.variant},"
        f" {largest_zip.package.zip_bytes / ZIPPED_LIMIT_BYTES:.0%});"
        f" unzipped {mib(UNZIPPED_LIMIT_BYTES)} MiB with layers, largest here"
        f" {mib(largest_tree.package.unzipped_bytes)} MiB"
        f" ({largest_tree.package.unzipped_bytes / UNZIPPED_LIMIT_BYTES:.0%})"
    ]


def spread(rows: Sequence[Row], variant: str, figure: str) -> tuple[float, float]:
    """The lowest and highest ratio to the baseline over the functions: of the ``cold`` time or the ``zip`` size."""
    values = []
    for row in rows:
        if row.variant != variant:
            continue
        base = baseline_of(rows, row.function)
        if figure == "zip":
            values.append(ratio(row.package.zip_bytes, base.package.zip_bytes))
        else:
            values.append(ratio(row.import_median + row.client_median, base.import_median + base.client_median))
    return min(values), max(values)


def span(low_high: tuple[float, float], digits: int = 2) -> str:
    low, high = (f"{value:.{digits}f}" for value in low_high)
    return f"{low}x" if low == high else f"{low}-{high}x"


def conclusion(rows: Sequence[Row]) -> str:
    """One line: what shipping the SDK would change, and whether it supports zips without one.

    They are supported when the SDK in the zip starts slower than the
    runtime's for every function (by more than ``SAME``), and the precompiled
    one faster for none: shipping would then cost size and give no speed.
    """
    raw, compiled, sizes = (
        spread(rows, SHIPPED, "cold"),
        spread(rows, SHIPPED_PYC, "cold"),
        spread(rows, SHIPPED_PYC, "zip"),
    )
    figures = (
        f"a cold start (import + first client) takes {span(raw)} the runtime SDK's with the SDK in the zip,"
        f" {span(compiled)} with its .pyc too, in zips {span(sizes, 0)} as large"
    )
    if raw[0] > 1 + SAME and compiled[0] >= 1 - SAME:
        return f"conclusion: keep the zips without an SDK: {figures}"
    return f"conclusion: a shipped SDK started as fast or faster here; weigh it again: {figures}"


# --- the packages -----------------------------------------------------------------------------


def pinned(lock_text: str, names: Iterable[str]) -> dict[str, str]:
    """``{name: version}`` of ``names`` as ``requirements.lock`` pins them (names compared as pip does)."""

    def key(name: str) -> str:
        return name.strip().lower().replace("_", "-").replace(".", "-")

    pins = {}
    for line in lock_text.splitlines():
        line = line.split("#", 1)[0].strip()  # noqa: PLW2901 - the line without its comment
        if "==" in line:
            name, version = line.split("==", 1)
            pins[key(name)] = version.strip()
    wanted = {name: key(name) for name in names}
    missing = [name for name, normal in wanted.items() if normal not in pins]
    if missing:
        raise BenchError(f"requirements.lock pins none of: {', '.join(missing)}")
    return {name: pins[normal] for name, normal in wanted.items()}


def package_of(archive: Path) -> Package:
    with zipfile.ZipFile(archive) as zipped:
        unzipped = sum(info.file_size for info in zipped.infolist())
    return Package(zip_bytes=archive.stat().st_size, unzipped_bytes=unzipped)


def extract(archive: Path, target: Path) -> Path:
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(target)
    return target


def bytecode_dirs(tree: Path) -> list[Path]:
    return sorted(tree.rglob("__pycache__"))


def install_sdk(target: Path, versions: Mapping[str, str]) -> None:
    """The pinned SDK in ``target`` as a zip would carry it: no dependencies resolved, no bytecode."""
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
        "--no-compile", "--target", str(target), *(f"{name}=={version}" for name, version in versions.items()),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BenchError(f"pip could not install the pinned SDK:\n{(result.stdout + result.stderr)[-2000:]}")
    if bytecode_dirs(target):
        raise BenchError(f"pip --no-compile left bytecode in {target}")


def compile_tree(python: Path, tree: Path) -> None:
    """Precompile ``tree`` with ``python`` (its own cache tag), as unchecked-hash bytecode."""
    command = [str(python), "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(tree)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BenchError(f"compileall failed in {tree}:\n{(result.stdout + result.stderr)[-2000:]}")


def build(spec: FunctionSpec, name: str, sdk: Path | None, base: Path) -> tuple[Package, Path]:
    """The zip of ``spec``, with ``sdk``'s files when given, built under ``base``: its sizes and its extracted tree."""
    # The stack's own staging and zip (modules/functions/packaging.py): the bytes it deploys.
    tree = stage(spec.package, base / "stage" / name)
    if sdk is not None:
        shutil.copytree(sdk, tree, dirs_exist_ok=True)
    archive = base / "zips" / f"{name}.zip"
    archive.parent.mkdir(parents=True, exist_ok=True)
    package = package_of(write_zip(tree, archive))
    shutil.rmtree(tree)
    return package, extract(archive, base / "task" / name)


def zip_names(archive: Path) -> list[str]:
    with zipfile.ZipFile(archive) as zipped:
        return sorted(zipped.namelist())


# --- the measurements ---------------------------------------------------------------------------


def child_env() -> dict[str, str]:
    """A Lambda-like environment: a region, placeholder credentials, nothing from ~/.aws."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
    return {
        **{name: os.environ[name] for name in keep if name in os.environ},
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",  # a placeholder: no request is sent
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


def probe(python: Path, task: Path, module: str, *, write_bytecode: bool = False) -> dict[str, object]:
    """Import ``module`` from the extracted zip ``task`` in a fresh, isolated ``python``; the probe's figures."""
    flags = ["-I"] if write_bytecode else ["-I", "-B"]
    result = subprocess.run(
        [str(python), *flags, "-c", PROBE, str(task), module],
        capture_output=True,
        text=True,
        check=False,
        cwd=task,
        env=child_env(),
    )
    if result.returncode != 0:
        raise BenchError(f"{module} did not import from {task.name}:\n{result.stderr[-2000:]}")
    figures: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def check_sdk(figures: Mapping[str, object], variant: str, task: Path) -> None:
    """The child imported botocore from where the variant says: the zip's for a shipped SDK, else its own."""
    inside = Path(str(figures["botocore"])).is_relative_to(task)
    if inside != (variant != BASELINE):
        raise BenchError(f"{variant}: botocore came from {figures['botocore']}")


def measure(rounds: int, sdk_versions: Mapping[str, str], base: Path) -> list[Row]:
    sdk = base / "sdk"
    print(f"installing the pinned SDK ({', '.join(f'{n} {v}' for n, v in sdk_versions.items())}) ...", flush=True)
    install_sdk(sdk, sdk_versions)
    compiled = base / "sdk-pyc"
    shutil.copytree(sdk, compiled)
    compile_tree(RUNTIME_PYTHON, compiled)
    trees = {BASELINE: None, SHIPPED: sdk, SHIPPED_PYC: compiled}
    built: dict[tuple[str, str], tuple[Package, Path]] = {}
    for spec in FUNCTIONS:
        for number, variant in enumerate(VARIANTS):
            print(f"  building {spec.package}: {variant} ...", flush=True)
            built[spec.package, variant] = build(spec, f"{spec.package}-{number}", trees[variant], base)
    # Warm-up, uncounted: the runtime SDK's bytecode written in site-packages (as the runtime has it
    # precompiled), every file in the page cache. Then no bytecode may be left in an extracted zip
    # but the precompiled SDK's.
    for spec in FUNCTIONS:
        for variant in VARIANTS:
            _, task = built[spec.package, variant]
            module = spec.handler.rsplit(".", 1)[0]
            check_sdk(probe(RUNTIME_PYTHON, task, module, write_bytecode=variant == BASELINE), variant, task)
            for cache in bytecode_dirs(task / "lambdas"):
                shutil.rmtree(cache)
    times: dict[tuple[str, str], list[tuple[float, float]]] = {key: [] for key in built}
    order = [(spec, variant) for spec in FUNCTIONS for variant in VARIANTS]
    for round_ in range(rounds):
        # Every other round backwards: a drift in the machine's load falls on every row alike.
        for spec, variant in order if round_ % 2 == 0 else reversed(order):
            _, task = built[spec.package, variant]
            caches = bytecode_dirs(task if variant != SHIPPED_PYC else task / "lambdas")
            if caches:
                raise BenchError(f"{spec.package}, {variant}: bytecode in the extracted zip: {caches[0]}")
            figures = probe(RUNTIME_PYTHON, task, spec.handler.rsplit(".", 1)[0])
            check_sdk(figures, variant, task)
            times[spec.package, variant].append((float(str(figures["import_s"])), float(str(figures["client_s"]))))
        print(f"  round {round_ + 1}/{rounds} done", flush=True)
    return [
        Row(
            function=spec.package,
            variant=variant,
            package=built[spec.package, variant][0],
            import_s=tuple(imported for imported, _ in times[spec.package, variant]),
            client_s=tuple(client for _, client in times[spec.package, variant]),
        )
        for spec, variant in order
    ]


def runtime_versions(python: Path) -> str:
    result = subprocess.run(
        [str(python), "-I", "-c", "import sys, botocore; print(sys.version.split()[0], botocore.__version__)"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BenchError(f"{python} cannot import botocore:\n{result.stderr[-1000:]}")
    interpreter, botocore = result.stdout.split()
    return f"Python {interpreter}, botocore {botocore}"


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS, help="timed runs of each row (default 5)")
    parser.add_argument("--quick", action="store_true", help="one round")
    args = parser.parse_args(argv)
    rounds = 1 if args.quick else args.rounds
    if rounds < 1:
        parser.error("--rounds must be at least 1")
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    base = Path(tempfile.mkdtemp(prefix="bench-functions-"))
    try:
        if not RUNTIME_PYTHON.exists():
            raise BenchError(f"no runtime interpreter at {RUNTIME_PYTHON.relative_to(PROJECT_ROOT)}: run make setup")
        print(f"runtime: {RUNTIME_PYTHON.relative_to(PROJECT_ROOT)}, {runtime_versions(RUNTIME_PYTHON)}", flush=True)
        versions = pinned(LOCK_FILE.read_text(encoding="utf-8"), SDK_PACKAGES)
        rows = measure(rounds, versions, base)
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print()
    print("\n".join(report(rows)))
    print(
        f"\nmedian of {rounds} round(s), each a fresh interpreter; import s: the handler module;"
        " +client s: then lambdas.common.aws.dynamodb(); cold s: both"
    )
    for line in limits(rows):
        print(line)
    print("a layer holds the same files, read-only under /opt/python: the same times, the same 250 MiB")
    print(conclusion(rows))
    print(run_facts(started, load_before))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
