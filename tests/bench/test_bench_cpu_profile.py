"""``bench/cpu_profile.py``: what it calls each process, and that it counts the CPU a command's processes spend."""

from __future__ import annotations

import sys

import pytest

from bench import cpu_profile

PROVIDER = ".terraform/providers/registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64/terraform-provider-aws_v5"


@pytest.mark.parametrize(
    ("argv", "parent", "expected"),
    [
        (["terraform", "plan", "-input=false", "-out=x.tfplan"], (), "terraform plan"),
        (["/usr/local/bin/terraform", "state", "pull"], (), "terraform state pull"),
        (["terraform", "-chdir=stacks/app", "apply", "-auto-approve"], (), "terraform apply"),
        ([PROVIDER], ["terraform", "show", "-json", "x.tfplan"], "aws provider (terraform show)"),
        ([PROVIDER], ["bash"], "aws provider (terraform ?)"),
        ([".venv/bin/python", "-m", "local.emulator.moto_server", "4566"], (), "emulator (moto server)"),
        ([".venv/bin/python", "-m", "pipeline.synth", "--outdir", "x"], (), "synth (python)"),
        (["/usr/bin/node", "/x/jsii-runtime.js"], (), "node (jsii, cdktf CLI)"),
        ([".venv/bin/python", "-m", "ops.staff", "list"], (), "python -m ops.staff"),
        ([".venv-runtime/bin/python", "-m", "pytest", "tests/lambdas"], (), "pytest (runtime's Python)"),
        (["/usr/lib/chromium/chromium", "--headless"], (), "chromium"),
    ],
)
def test_each_process_is_named_by_what_it_is(argv: list[str], parent: list[str], expected: str) -> None:
    assert cpu_profile.kind(argv, parent) == expected


def test_a_commands_cpu_is_counted_under_its_kind(capsys: pytest.CaptureFixture[str]) -> None:
    burn = "import time\nend = time.process_time() + 1.2\nwhile time.process_time() < end: pass"
    status = cpu_profile.main(["--interval", "0.1", "--", sys.executable, "-m", "this_module_does_not_exist"])
    assert status == 1  # the command's own exit status
    capsys.readouterr()  # that run's table aside
    status = cpu_profile.main(["--interval", "0.1", "--", sys.executable, "-c", burn])
    out = capsys.readouterr().out
    assert status == 0
    (row,) = [line for line in out.splitlines() if line.endswith("  python (other)")]
    seconds = float(row.split()[0])
    # The 1.2 s of CPU it burned (less what the last sample before it ended missed), not the machine's history.
    assert 0.8 <= seconds < 5.0, out


def test_without_a_command_it_says_what_to_give() -> None:
    with pytest.raises(SystemExit) as exited:
        cpu_profile.main([])
    assert exited.value.code == 2
