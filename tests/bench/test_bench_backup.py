"""``bench/backup.py`` and its parts: its students, its verdicts, and a quick run against its own emulator.

Timings are never asserted: the machines are shared. The quick run checks that
the benchmark starts and stops its emulator, measures every row at each size,
and prints a verdict per goal.
"""

from __future__ import annotations

import dataclasses
import json
import re
import socket
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from bench.backup import CHILD_PYTHON, child_env, freeze_code, parse_counts
from bench.backup_measurement import (
    Emulator,
    Job,
    Measured,
    backup_takes_segments,
    job_from_json,
    job_to_json,
    measured_from_json,
)
from bench.backup_report import (
    MEMORY_LIMIT_MIB,
    TIMEOUT_S,
    SizeResult,
    cost_per_run_usd,
    memory_choice,
    projected_seconds,
    projection,
    verdicts,
)
from bench.backup_students import student
from lambdas.common import validation
from modules.functions.catalog import BACKUP, spec
from tests.conftest import ROOT, run, tool_env

#: `make check` leaves this module to `make test`: runs a benchmark.
pytestmark = pytest.mark.slow

SIZES = (200, 400)


def measured(kind: str, segments: int, seconds: float, ready_mib: float = 50, peak_mib: float = 60) -> Measured:
    return Measured(kind, segments, 1000, seconds, seconds / 2, int(ready_mib * 1024), int(peak_mib * 1024))


def size(students: int, *rows: Measured) -> SizeResult:
    return SizeResult(students=students, item_bytes=128, json_bytes=200, seed_seconds=1, rows=rows)


def verdict(lines: list[str], goal: str) -> str:
    [line] = [line for line in lines if f" {goal}:" in line]
    return line.split()[0]


def test_students_are_ones_the_insert_function_accepts() -> None:
    students = [student(number) for number in range(0, 300_000, 997)]
    for item in students:
        validation.parse_student({key: value["S"] for key, value in item.items()}, today=date(2026, 1, 1))
    assert len({item["studentid"]["S"] for item in students}) == len(students)
    # Vietnamese names with their diacritics; the e-mail addresses folded to ASCII.
    assert sum(not item["name"]["S"].isascii() for item in students) > len(students) / 2
    assert all(item["email"]["S"].isascii() for item in students)
    assert student(12345) == student(12345)


def test_time_verdict_holds_the_backup_as_the_function_runs_it_to_one_and_a_half_raw_scans() -> None:
    within = size(1000, measured("raw scan", 1, 10), measured("backup", 1, 15))
    beyond = size(1000, measured("raw scan", 1, 10), measured("backup", 1, 15.5), measured("backup", 2, 12))
    assert verdict(verdicts([within], 1), "time") == "PASS"
    # A faster segment count does not pass for the one the function uses; it is noted.
    lines = verdicts([beyond], 1)
    assert verdict(lines, "time") == "FAIL"
    assert any(line.startswith("note: backup, segments=2: 1.20x to 1.20x the raw scan") for line in lines)
    assert verdict(verdicts([beyond], 2), "time") == "PASS"


def test_memory_verdicts_need_flat_growth_and_a_peak_under_the_functions_memory() -> None:
    small = size(1000, measured("raw scan", 1, 1), measured("backup", 1, 1, ready_mib=50, peak_mib=60))
    flat = size(30_000, measured("raw scan", 1, 1), measured("backup", 1, 1, ready_mib=50, peak_mib=69))
    grown = size(30_000, measured("raw scan", 1, 1), measured("backup", 1, 1, ready_mib=50, peak_mib=71))
    over = size(30_000, measured("raw scan", 1, 1), measured("backup", 1, 1, ready_mib=120, peak_mib=129))
    assert verdict(verdicts([small, flat], 1), "memory flat") == "PASS"
    assert verdict(verdicts([small, grown], 1), "memory flat") == "FAIL"
    assert verdict(verdicts([small], 1), "memory flat") == "SKIP"
    assert verdict(verdicts([small, flat], 1), "memory limit") == "PASS"
    assert verdict(verdicts([small, over], 1), "memory limit") == "FAIL"


def backup_row(seconds: float, cpu_seconds: float, peak_mib: float = 90, segments: int = 1) -> Measured:
    return Measured("backup", segments, 1000, seconds, cpu_seconds, 50 * 1024, int(peak_mib * 1024))


def test_projection_stretches_the_cpu_seconds_by_the_vcpu_share_and_keeps_the_waiting() -> None:
    # 10 s of CPU in 30 s: at 128 MB a 128/1769 share of a vCPU, the 20 s of waiting as measured.
    assert projected_seconds(30, 10, 128) == pytest.approx(10 * 1769 / 128 + 20)
    assert projected_seconds(30, 10, 1769) == pytest.approx(30)
    # Beyond one vCPU single-threaded work goes no faster than measured.
    assert projected_seconds(30, 10, 3538) == pytest.approx(30)
    # Two threads may use more CPU than wall time: no negative waiting.
    assert projected_seconds(10, 12, 1769) == pytest.approx(12)


def test_cost_per_run_is_gb_seconds_at_the_x86_price_plus_one_request() -> None:
    assert cost_per_run_usd(1, 1024) == pytest.approx(0.0000166667 + 0.0000002)
    assert cost_per_run_usd(100, 128) == pytest.approx(0.125 * 100 * 0.0000166667 + 0.0000002)
    # CPU-bound work costs the same GB-seconds at any size below one vCPU; waiting costs more at more memory.
    cpu_bound = [cost_per_run_usd(projected_seconds(10, 10, mb), mb) for mb in (128, 256, 512, 1024)]
    assert cpu_bound == pytest.approx([cpu_bound[0]] * 4)
    waiting = [cost_per_run_usd(projected_seconds(10, 1, mb), mb) for mb in (128, 256, 512, 1024)]
    assert waiting == sorted(waiting)
    assert waiting[0] < waiting[-1]


def test_projection_table_has_a_row_per_backup_and_says_it_is_an_upper_bound() -> None:
    result = size(300_000, measured("raw scan", 1, 200), backup_row(222.52, 12.69), backup_row(243, 13.81, segments=2))
    lines = projection([result])
    assert any("upper bound" in line for line in lines)
    [one] = [line for line in lines if "backup, segments=1" in line]
    # 12.69 s of CPU x 1769/128 + 209.83 s of waiting = 385.2 s, at 0.125 GB.
    assert one.split()[3:5] == ["385.2", f"{0.125 * 385.21 * 0.0000166667 + 0.0000002:.7f}"]
    assert one.split()[-2] == f"{12.69 * 1769 / 1024 + 209.83:.1f}"
    assert sum("segments=2" in line for line in lines) == 1


def test_memory_size_verdict_takes_the_cheapest_size_within_half_the_timeout_that_holds_the_peak() -> None:
    small = size(10_000, measured("raw scan", 1, 1), backup_row(5, 0.5))

    def choice(seconds: float, cpu_seconds: float, peak_mib: float = 90, configured: int = 128) -> str:
        largest = size(300_000, measured("raw scan", 1, 1), backup_row(seconds, cpu_seconds, peak_mib))
        return memory_choice([small, largest], 1, configured_mb=configured)

    # 20 s of CPU at 128 MB: 276 s + 80 s of waiting, within 450 s: the smallest is the cheapest.
    assert choice(100, 20).startswith("PASS memory size: 128 MB, the function's:")
    # 30 s of CPU: 415 s + 70 s at 128 MB, over 450 s; 277 s at 256 MB.
    assert choice(100, 30).startswith("FAIL memory size: 256 MB, not the function's 128 MB:")
    assert choice(100, 30, configured=256).startswith("PASS memory size: 256 MB")
    # A peak of 130 MiB does not fit in 128 MB, however fast.
    assert choice(10, 1, peak_mib=130).startswith("FAIL memory size: 256 MB")
    # 100 s of CPU and 400 s of waiting: over 450 s at every size.
    assert choice(500, 100).startswith("FAIL memory size: none of 128, 256, 512, 1024 MB fits")
    # It is one of the verdicts.
    assert (
        verdict(verdicts([small, size(300_000, measured("raw scan", 1, 1), backup_row(100, 20))], 1), "memory size")
        == "PASS"
    )
    # The timeout and the configured size are the function table's.
    assert (spec(BACKUP).timeout_seconds, spec(BACKUP).memory_mb) == (TIMEOUT_S, MEMORY_LIMIT_MIB)


def test_sizes_and_segments_must_be_positive_counts() -> None:
    assert parse_counts("10000,100_000") == [10_000, 100_000]
    with pytest.raises(Exception, match="positive"):
        parse_counts("0")
    with pytest.raises(Exception, match="whole numbers"):
        parse_counts("10k")


def test_a_job_and_its_measurement_cross_to_the_child_and_back_unchanged() -> None:
    emulator = Emulator(
        endpoint="https://127.0.0.1:4566", ca_bundle="/ca.pem", region="us-east-1", credentials=(("AWS_X", "x"),)
    )
    job = Job("backup", "bench-students-200", 2, emulator)
    assert job_from_json(job_to_json(job)) == job
    row = Measured("backup", 2, 200, 1.5, 0.5, 50_000, 60_000, ("a.json", "a.csv"), "c0de")
    assert measured_from_json(json.loads(json.dumps(dataclasses.asdict(row)))) == row


def test_a_child_imports_the_copy_of_the_function_code_even_from_the_project_root(tmp_path: Path) -> None:
    code = freeze_code(tmp_path)
    imported = subprocess.run(
        [*CHILD_PYTHON, "-c", "import bench.footer, lambdas.backup.handler as h; print(h.__file__)"],
        cwd=ROOT,
        env=child_env(code.directory),
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(imported.stdout.strip()) == code.directory / "lambdas" / "backup" / "handler.py"


def test_quick_run_prints_every_row_and_a_verdict_per_goal() -> None:
    result = run(
        [sys.executable, "-m", "bench.backup", "--quick", "--sizes", ",".join(map(str, SIZES))],
        cwd=ROOT,
        env=tool_env(),
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    parallel = "backup" if backup_takes_segments() else "scan_items"
    for students in SIZES:
        for row in ("raw scan", "backup, segments=1", f"{parallel}, segments=2"):
            assert re.search(rf"^\s*{students:,} {re.escape(row)}\s+\d+\.\d+\s+[\d,]+\s+\d+\.\d+x\s", output, re.M), (
                f"no row '{row}' for {students}:\n{output}"
            )
    for goal in ("time", "memory flat", "memory limit", "memory size"):
        assert re.search(rf"^(PASS|FAIL) {goal}: ", output, re.M), f"no verdict on {goal}:\n{output}"
    assert "an upper bound: the waiting is the emulator's Scan" in output
    # The benchmark's own emulator is gone.
    port = int(re.search(r"private emulator at https://127\.0\.0\.1:(\d+)", output)[1])  # type: ignore[index]
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
