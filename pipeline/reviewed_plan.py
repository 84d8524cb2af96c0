"""Which pull-request run holds the plans reviewed for a commit pushed to main (``deploy.yml``'s first job).

    python3 -m pipeline.reviewed_plan SHA >>"$GITHUB_OUTPUT"

The commit must be what a pull request into main was merged as (GitHub's
"pull requests associated with a commit"), and that pull request's head commit
must have a successful run of ``.github/workflows/pull-request.yml``: its
``plan`` jobs left the plan of each environment as the artifacts
``plan-<env>``. Prints ``pull-request=<number>`` and ``run-id=<id>`` for the
job's outputs; otherwise says why on stderr and exits 1, so nothing is applied
that nobody reviewed (a push straight to main, a plan run that failed or was
never made). It asks GitHub through the ``gh`` CLI (``GH_TOKEN`` and
``GH_REPO`` set by the step). Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from typing import Any, Final

#: The workflow whose runs plan a pull request (its file name under .github/workflows/).
PLAN_WORKFLOW: Final = "pull-request.yml"
BASE_BRANCH: Final = "main"
_SHA: Final = re.compile(r"^[0-9a-f]{40}$")


class NoReviewedPlanError(RuntimeError):
    """The commit has no reviewed plan to apply; the message says why."""


@dataclass(frozen=True)
class ReviewedPlan:
    pull_request: int
    head_sha: str
    run_id: int


def gh(*args: str) -> Any:
    """``gh <args>``'s JSON answer."""
    done = subprocess.run(["gh", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise NoReviewedPlanError(f"gh {' '.join(args)} failed: {done.stderr.strip()}")
    return json.loads(done.stdout)


def merged_pull_request(repository: str, sha: str) -> tuple[int, str]:
    """The pull request into main that was merged as ``sha``: its number and head commit."""
    pulls = gh("api", f"repos/{repository}/commits/{sha}/pulls")
    merged = [p for p in pulls if p.get("merged_at") and p["base"]["ref"] == BASE_BRANCH]
    # The pull request merged as this very commit first (a merge or squash commit); a rebase leaves others.
    merged.sort(key=lambda p: p.get("merge_commit_sha") != sha)
    if not merged:
        raise NoReviewedPlanError(
            f"{sha} is no merged pull request into {BASE_BRANCH} (pushed straight to it?): no plan was reviewed"
        )
    return int(merged[0]["number"]), str(merged[0]["head"]["sha"])


def plan_run(head_sha: str) -> int:
    """The latest successful pull-request run of ``head_sha``: the one whose plans were reviewed last."""
    runs = gh(
        "run", "list", "--workflow", PLAN_WORKFLOW, "--commit", head_sha, "--event", "pull_request",
        "--status", "success", "--limit", "1", "--json", "databaseId,headSha",
    )  # fmt: skip
    matching = [run for run in runs if run["headSha"] == head_sha]
    if not matching:
        raise NoReviewedPlanError(
            f"no successful {PLAN_WORKFLOW} run for the pull request's head {head_sha}: rerun its checks, then deploy"
        )
    return int(matching[0]["databaseId"])


def reviewed_plan(repository: str, sha: str) -> ReviewedPlan:
    if not _SHA.match(sha):
        raise NoReviewedPlanError(f"{sha!r} is not a commit id (40 hexadecimal digits)")
    number, head = merged_pull_request(repository, sha)
    return ReviewedPlan(pull_request=number, head_sha=head, run_id=plan_run(head))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sha", help="the commit pushed to main")
    args = parser.parse_args(argv)
    repository = os.environ.get("GH_REPO", "")
    if not repository:
        print("reviewed_plan: GH_REPO (owner/name) is not set", file=sys.stderr)
        return 1
    try:
        found = reviewed_plan(repository, args.sha)
    except NoReviewedPlanError as error:
        print(f"reviewed_plan: {error}", file=sys.stderr)
        return 1
    print(f"pull-request={found.pull_request}")
    print(f"run-id={found.run_id}")
    print(
        f"reviewed plans: pull request #{found.pull_request} (head {found.head_sha}), run {found.run_id}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
