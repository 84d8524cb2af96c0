"""``bench/backup.py``: its data, its verdicts, and a quick run against its own emulator.

Timings are never asserted: the machines are shared. The quick run checks that
the benchmark starts and stops its emulator, measures every row at each size,
and prints a verdict per goal.
"""

from __future__ import annotations

import re
import socket
import sys
from datetime import date

import pytest

from bench import backup as bench
from lambdas.common import validation
from tests.conftest import ROOT, run, tool_env

SIZES = (200, 400)


def measured(kind: str, segments: int, seconds: float, ready_mib: float = 50, peak_mib: float = 60) -> bench.Measured:
    return bench.Measured(kind, segments, 1000, seconds, seconds / 2, int(ready_mib * 1024), int(peak_mib * 1024))


def size(students: int, *rows: bench.Measured) -> bench.SizeResult:
    return bench.SizeResult(students=students, item_bytes=128, json_bytes=200, seed_seconds=1, rows=rows)


def verdict(lines: list[str], goal: str) -> str:
    [line] = [line for line in lines if f" {goal}:" in line]
    return line.split()[0]


def test_students_are_ones_the_insert_function_accepts() -> None:
    students = [bench.student(number) for number in range(0, 300_000, 997)]
    for item in students:
        validation.parse_student({key: value["S"] for key, value in item.items()}, today=date(2026, 1, 1))
    assert len({item["studentid"]["S"] for item in students}) == len(students)
    # Vietnamese names with their diacritics; the e-mail addresses folded to ASCII.
    assert sum(not item["name"]["S"].isascii() for item in students) > len(students) / 2
    assert all(item["email"]["S"].isascii() for item in students)
    assert bench.student(12345) == bench.student(12345)


def test_time_verdict_holds_the_fastest_backup_to_one_and_a_half_raw_scans() -> None:
    within = size(1000, measured("raw scan", 1, 10), measured("backup", 1, 16), measured("backup", 2, 14))
    beyond = size(1000, measured("raw scan", 1, 10), measured("backup", 1, 16), measured("backup", 2, 15.5))
    assert verdict(bench.verdicts([within]), "time") == "PASS"
    assert verdict(bench.verdicts([beyond]), "time") == "FAIL"


def test_memory_verdicts_need_flat_growth_and_a_peak_under_the_functions_memory() -> None:
    small = size(1000, measured("raw scan", 1, 1), measured("backup", 1, 1, ready_mib=50, peak_mib=60))
    flat = size(30_000, measured("raw scan", 1, 1), measured("backup", 1, 1, ready_mib=50, peak_mib=69))
    grown = size(30_000, measured("raw scan", 1, 1), measured("backup", 1, 1, ready_mib=50, peak_mib=71))
    over = size(30_000, measured("raw scan", 1, 1), measured("backup", 1, 1, ready_mib=120, peak_mib=129))
    assert verdict(bench.verdicts([small, flat]), "memory flat") == "PASS"
    assert verdict(bench.verdicts([small, grown]), "memory flat") == "FAIL"
    assert verdict(bench.verdicts([small]), "memory flat") == "SKIP"
    assert verdict(bench.verdicts([small, flat]), "memory limit") == "PASS"
    assert verdict(bench.verdicts([small, over]), "memory limit") == "FAIL"


def test_sizes_and_segments_must_be_positive_counts() -> None:
    assert bench.parse_counts("10000,100_000") == [10_000, 100_000]
    with pytest.raises(Exception, match="positive"):
        bench.parse_counts("0")
    with pytest.raises(Exception, match="whole numbers"):
        bench.parse_counts("10k")


def test_quick_run_prints_every_row_and_a_verdict_per_goal() -> None:
    result = run(
        [sys.executable, "-m", "bench.backup", "--quick", "--sizes", ",".join(map(str, SIZES))],
        cwd=ROOT,
        env=tool_env(),
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    parallel = "backup" if bench.backup_takes_segments() else "scan_items"
    for students in SIZES:
        for row in ("raw scan", "backup, segments=1", f"{parallel}, segments=2"):
            assert re.search(rf"^\s*{students:,} {re.escape(row)}\s+\d+\.\d+\s+[\d,]+\s+\d+\.\d+x\s", output, re.M), (
                f"no row '{row}' for {students}:\n{output}"
            )
    for goal in ("time", "memory flat", "memory limit"):
        assert re.search(rf"^(PASS|FAIL) {goal}: ", output, re.M), f"no verdict on {goal}:\n{output}"
    # The benchmark's own emulator is gone.
    port = int(re.search(r"private emulator at https://127\.0\.0\.1:(\d+)", output)[1])  # type: ignore[index]
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
