"""``bench/terraform.py``: the GOGC it compares with Go's default is the Makefile's, and it reports both cases.

Timings are never asserted: the machines are shared.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench import terraform as bench

#: `make check` leaves this module to `make test`: runs a benchmark.
pytestmark = pytest.mark.slow


def test_the_project_case_is_the_gogc_the_makefile_exports(tmp_path: Path) -> None:
    makefile = tmp_path / "Makefile"
    makefile.write_text("export CHECKPOINT_DISABLE := 1\nexport GOGC ?= 250\n", encoding="utf-8")
    assert bench.project_gogc(makefile) == "250"
    assert bench.project_gogc() != bench.GO_DEFAULT  # the project's own Makefile: a choice, not Go's default


def test_a_makefile_without_gogc_fails_naming_what_is_missing(tmp_path: Path) -> None:
    makefile = tmp_path / "Makefile"
    makefile.write_text("export GOGC := 400\n", encoding="utf-8")  # not the '?=' that keeps a user's own
    with pytest.raises(bench.BenchError, match=r"exports no GOGC \('export GOGC \?= N'\)"):
        bench.project_gogc(makefile)


def test_one_run_measures_both_cases_and_compares_them(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--runs", "1"]) == 0
    out = capsys.readouterr().out
    table = out[out.index("terraform validate of") :]
    assert f"go-default {bench.GO_DEFAULT:>5}" in table
    assert f"project    {bench.project_gogc():>5}" in table
    assert "project vs go-default: " in table and "x the CPU time" in table
    # Each case ran once to warm up and once measured.
    for case in ("go-default", "project"):
        assert len([line for line in out.splitlines() if re.match(rf"\s+{case}\s+GOGC=", line)]) == 2, out
