"""What ``bench.backup`` concludes: its table, its verdicts, and the projection to AWS Lambda.

The rows of every table size, one verdict per goal (time, memory flat,
memory limit, memory size) on the backup as the function runs it, and every
backup row projected to Lambda's memory sizes with its duration and cost per
run. Separate from the measuring (``bench.backup`` and
``bench.backup_measurement``): these are plain functions of the measured rows,
tested without an emulator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from bench.backup_measurement import Measured
from modules.functions.catalog import BACKUP, spec

#: The backup may take at most this many times the raw scan of the same table.
RATIO_GOAL: Final = 1.5
#: The largest table's memory growth may be at most this many times the smallest's.
FLAT_GOAL: Final = 2.0
#: The function's memory size, MiB (Lambda's "MB" are MiB).
MEMORY_LIMIT_MIB: Final = spec(BACKUP).memory_mb
#: The function's timeout, seconds; a projected backup must take at most ``TIMEOUT_SHARE`` of it.
TIMEOUT_S: Final = spec(BACKUP).timeout_seconds
TIMEOUT_SHARE: Final = 0.5
#: Lambda allocates CPU in proportion to memory: one full vCPU at 1,769 MB (AWS Lambda developer guide,
#: "Configure Lambda function memory").
FULL_VCPU_MB: Final = 1769
#: The memory sizes the backup is projected to, MB.
PROJECTED_MEMORY_MB: Final = (128, 256, 512, 1024)
#: AWS Lambda pricing page (https://aws.amazon.com/lambda/pricing/), x86, us-east-1: duration per
#: GB-second (first pricing tier) and requests per million. Free tier not counted.
PRICE_PER_GB_SECOND_USD: Final = 0.0000166667
PRICE_PER_MILLION_REQUESTS_USD: Final = 0.20


@dataclass(frozen=True)
class SizeResult:
    students: int
    item_bytes: float
    json_bytes: float
    seed_seconds: float
    rows: tuple[Measured, ...]

    @property
    def baseline(self) -> Measured:
        return next(row for row in self.rows if row.kind == "raw scan")

    @property
    def backups(self) -> list[Measured]:
        return [row for row in self.rows if row.kind == "backup"]

    def backup(self, segments: int) -> Measured:
        return next(row for row in self.backups if row.segments == segments)


def report(results: Sequence[SizeResult]) -> None:
    header = (
        f"{'students':>9} {'measurement':<24} {'seconds':>8} {'items/s':>9} {'x raw scan':>10} "
        f"{'client CPU s':>12} {'peak RSS MiB':>12} {'growth MiB':>10}"
    )
    print()
    print(header)
    print("-" * len(header))
    for result in results:
        baseline = result.baseline
        for row in result.rows:
            print(
                f"{result.students:>9,} {row.label:<24} {row.seconds:>8.2f} {row.rate:>9,.0f} "
                f"{row.seconds / baseline.seconds:>9.2f}x {row.cpu_seconds:>12.2f} {row.peak_mib:>12.1f}"
                f" {row.growth_mib:>10.1f}"
            )
    sizes = ", ".join(
        f"{r.students:,}: {r.item_bytes:.0f} B/item ({r.json_bytes:.0f} B as DynamoDB JSON)" for r in results
    )
    print(f"\nitem sizes (DynamoDB's measure): {sizes}")
    print("client CPU: the measuring process's own CPU time (every thread); the emulator's is not in it")
    print("growth: peak RSS less the RSS of the ready child (clients made, one call done)")


def verdicts(results: Sequence[SizeResult], function: int) -> list[str]:
    """One line per goal, PASS, FAIL or SKIP, on the backup as the function runs it (``function`` segments).

    Then a note per other segment count measured: what it would change.
    """
    shipped = [(r.students, r.backup(function), r.baseline) for r in results]
    ratios = ", ".join(f"{n:,}: {row.seconds / base.seconds:.2f}x" for n, row, base in shipped)
    worst = max(row.seconds / base.seconds for _, row, base in shipped)
    name = f"the backup as the function runs it (segments={function})"
    lines = [f"{'PASS' if worst <= RATIO_GOAL else 'FAIL'} time: {name} <= {RATIO_GOAL}x the raw scan ({ratios})"]
    first, last = shipped[0][1], shipped[-1][1]
    if len(results) < 2:
        lines.append("SKIP memory flat: needs two table sizes")
    else:
        growth = last.growth_mib / first.growth_mib if first.growth_mib > 0 else float("inf")
        lines.append(
            f"{'PASS' if growth <= FLAT_GOAL else 'FAIL'} memory flat: its growth {first.growth_mib:.1f} ->"
            f" {last.growth_mib:.1f} MiB ({growth:.2f}x, limit {FLAT_GOAL}x) while the table grew"
            f" {results[-1].students / results[0].students:.0f}x"
        )
    peak = max(row.peak_mib for _, row, _ in shipped)
    lines.append(
        f"{'PASS' if peak < MEMORY_LIMIT_MIB else 'FAIL'} memory limit: its peak RSS {peak:.1f} MiB"
        f" (limit {MEMORY_LIMIT_MIB} MiB, the function's memory size)"
    )
    lines.append(memory_choice(results, function))
    others = sorted({row.segments for r in results for row in r.backups} - {function})
    for segments in others:
        rows = [(r.backup(segments), r.baseline) for r in results]
        lines.append(
            f"note: backup, segments={segments}: {min(row.seconds / base.seconds for row, base in rows):.2f}x to"
            f" {max(row.seconds / base.seconds for row, base in rows):.2f}x the raw scan, growth"
            f" {rows[0][0].growth_mib:.1f} -> {rows[-1][0].growth_mib:.1f} MiB,"
            f" peak RSS {max(row.peak_mib for row, _ in rows):.1f} MiB"
        )
    return lines


# --- the projection to AWS -------------------------------------------------------------------


def projected_seconds(wall_s: float, cpu_s: float, memory_mb: int) -> float:
    """A measured run's duration on Lambda at ``memory_mb``: its CPU work stretched, its waiting as measured.

    Below 1,769 MB the function has ``memory_mb / 1769`` of a vCPU, so its CPU
    seconds take ``1769 / memory_mb`` times as long; above, at least one vCPU,
    the single-threaded work runs no faster than measured. The waiting (wall
    less CPU time) is the emulator's Scan here, slower than DynamoDB's: an
    upper bound.
    """
    return cpu_s * max(1.0, FULL_VCPU_MB / memory_mb) + max(0.0, wall_s - cpu_s)


def cost_per_run_usd(seconds: float, memory_mb: int) -> float:
    """What one run of ``seconds`` at ``memory_mb`` costs on Lambda: GB-seconds and the request (x86, us-east-1)."""
    return memory_mb / 1024 * seconds * PRICE_PER_GB_SECOND_USD + PRICE_PER_MILLION_REQUESTS_USD / 1_000_000


def projection(results: Sequence[SizeResult], memory_sizes: Sequence[int] = PROJECTED_MEMORY_MB) -> list[str]:
    """A table: every backup row's projected duration and cost per run at each of ``memory_sizes``."""
    columns = "".join(f" {f'{mb} MB s':>10} {'$/run':>10}" for mb in memory_sizes)
    header = f"{'students':>9} {'measurement':<24}{columns}"
    lines = [
        f"projected on AWS Lambda (x86, us-east-1): CPU seconds x max(1, {FULL_VCPU_MB}/MB) + waiting as measured;",
        "an upper bound: the waiting is the emulator's Scan, slower than DynamoDB's",
        header,
        "-" * len(header),
    ]
    for result in results:
        for row in result.backups:
            cells = ""
            for mb in memory_sizes:
                seconds = projected_seconds(row.seconds, row.cpu_seconds, mb)
                cells += f" {seconds:>10.1f} {cost_per_run_usd(seconds, mb):>10.7f}"
            lines.append(f"{result.students:>9,} {row.label:<24}{cells}")
    return lines


def memory_choice(
    results: Sequence[SizeResult],
    function: int,
    configured_mb: int = MEMORY_LIMIT_MIB,
    memory_sizes: Sequence[int] = PROJECTED_MEMORY_MB,
) -> str:
    """The verdict on the memory size: the lowest-cost one that fits, PASS when it is the function's.

    A size fits when the backup as the function runs it (``function``
    segments), projected to it, takes at most ``TIMEOUT_SHARE`` of the timeout
    at the largest table, and its peak RSS at any size is under it. The costs
    are those of the largest table; a tie goes to the smaller size.
    """
    largest = results[-1]
    row = largest.backup(function)
    peak = max(r.backup(function).peak_mib for r in results)
    limit_s = TIMEOUT_S * TIMEOUT_SHARE
    fitting = []
    for mb in memory_sizes:
        seconds = projected_seconds(row.seconds, row.cpu_seconds, mb)
        if seconds <= limit_s and peak < mb:
            fitting.append((cost_per_run_usd(seconds, mb), mb, seconds))
    sizes = ", ".join(str(mb) for mb in memory_sizes)
    if not fitting:
        return (
            f"FAIL memory size: none of {sizes} MB fits: {largest.students:,} students projected over"
            f" {limit_s:.0f} s (half the {TIMEOUT_S} s timeout) or a peak RSS of {peak:.1f} MiB over the size"
        )
    cost, chosen, seconds = min(fitting)
    reason = (
        f"of {sizes} MB, the lowest cost per run (${cost:.7f} at {largest.students:,} students) among those"
        f" whose projected duration at {largest.students:,} students is within {limit_s:.0f} s, half the"
        f" {TIMEOUT_S} s timeout ({seconds:.0f} s at {chosen} MB), and that hold the peak RSS ({peak:.1f} MiB)"
    )
    if chosen == configured_mb:
        return f"PASS memory size: {chosen} MB, the function's: {reason}"
    return f"FAIL memory size: {chosen} MB, not the function's {configured_mb} MB: {reason}"
