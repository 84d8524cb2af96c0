"""`CDK_ENGINE=cdktn make up`: CDK Terrain's deployment, used through the page, planned by cdktf; then `make down`,
`make up` from nothing and `make down` again, with nothing left behind.

``tests/system/test_make_up.py``'s local system, with a ``make up`` of its own
(that module's fixture, on ports of its own) made by the other engine (issue 24):
CDK Terrain synthesizes what the same Terraform deploys, the page's whole flow
passes on it, and cdktf, synthesizing the same system, plans no change against
its state (the reverse of ``tests/local/test_deploy_local.py``'s cross-engine
plan). Its second full deploy runs beside ``test_make_up.py``'s tests instead
of after them, which keeps ``make test`` within its time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import APP_STACK
from ops.staff_user import STAFF_EMAIL
from tests.engine.test_engines import CDKTF, CDKTN, VERSIONS, plan_with_engine, require_cdktn
from tests.system.test_make_up import LocalSystem, assert_nothing_left, local_system, make, request, use_the_page

pytestmark = [pytest.mark.emulator, pytest.mark.browser]


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSystem]:
    """A `make up` of this module's own, synthesized by CDK Terrain."""
    require_cdktn()
    with local_system(tmp_path_factory, CDK_ENGINE=CDKTN.name) as running:
        yield running


def test_cdk_terrain_synthesized_what_make_up_deployed(system: LocalSystem) -> None:
    assert f"with {CDKTN.title} into" in system.first.output
    assert "Apply complete! Resources: 7 added" in system.first.output  # the state bucket's stack
    deployed = system.emulator.config.deployment_outdir / "stacks" / APP_STACK / "cdk.tf.json"
    metadata = json.loads(deployed.read_text(encoding="utf-8"))["//"]["metadata"]
    assert metadata["version"] == VERSIONS[CDKTN.name]


def test_the_page_flow_passes_on_cdk_terrains_deployment(system: LocalSystem) -> None:
    make("seed", system.emulator).ok()  # 20 students: with the page's own, more than a page of 20
    use_the_page(system, "cdktn")


def test_cdktf_plans_the_deployment_cdk_terrain_made_with_no_changes(system: LocalSystem, tmp_path: Path) -> None:
    """The reverse of the cross-engine plan: what CDK Terrain deployed (and the page then used), synthesized by
    cdktf and planned against its state: nothing to do in either stack."""
    plans = plan_with_engine(CDKTF, system.emulator.deploy_env(), tmp_path / "cdktf")
    for stack, text in plans.items():
        assert "No changes. Your infrastructure matches the configuration." in text, (stack, text[-3000:])


def test_down_up_down_leaves_nothing_behind(system: LocalSystem) -> None:
    server = int((system.emulator.state_dir / "moto.pid").read_text())
    stopped = make("down", system.emulator).ok()
    assert f"stopped ({system.emulator.endpoint}, pid {server})" in stopped.output
    assert_nothing_left(system.emulator)

    fresh = make("up", system.emulator, **system.env).ok()
    assert "emulator: starting moto server" in fresh.output
    assert "synth skipped" in fresh.output  # nothing the synth reads changed, the engine included
    assert "Apply complete! Resources: 7 added" in fresh.output
    assert request(f"{system.site}/").status == 200
    # A fresh pool, and in it a fresh staff member with a new temporary password.
    assert f"{STAFF_EMAIL} (groups staff, admin), temporary password" in fresh.output
    fresh_key = make("api-key", system.emulator).ok().output.strip()
    system.forget_token()
    assert request(f"{system.api}/students", key=fresh_key, token=system.token()).body["count"] == 0

    make("down", system.emulator).ok()
    assert_nothing_left(system.emulator)
