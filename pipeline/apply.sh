#!/usr/bin/env bash
# `make apply ENV=<name>`: apply exactly the reviewed plan of a stack, without asking, as the
# delivery pipeline does after review (.github/workflows/deploy.yml). The plan is the one
# `make plan` wrote into cdktf.out/plan/ (here, or in the pull request's job, downloaded into
# cdktf.out/plan/). It is refused, and nothing applied, when
#   - it was made for another environment than ENV;
#   - this code synthesizes another stack than the one the plan was made from (the merged
#     code is not what was reviewed);
#   - it destroys or replaces a stateful resource (pipeline/plan_summary.py --guard;
#     ALLOW_REPLACE=1 overrides);
#   - the state changed since it was planned: Terraform itself refuses a stale saved plan.
# The providers are the ones the plan was made with (its lock file travels with it).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
stack=${1:?usage: pipeline/apply.sh STACK}
synth=${CDKTF_OUTDIR:-$root/cdktf.out}
out=$synth/plan
dir=$synth/stacks/$stack
refuse() {
  echo "make apply: REFUSED, nothing applied: $*" >&2
  exit 1
}
# The environment in $environment; the emulator's credentials when it lives there.
# shellcheck source=pipeline/environment.sh
source "$root/pipeline/environment.sh"
for file in "$stack".tfplan "$stack".txt "$stack".json "$stack".reviewed; do
  [[ -f $out/$file ]] || refuse "no reviewed plan of $stack ($out/$file is missing): run 'make plan ENV=$environment' first"
done
read -r planned_environment planned_digest <"$out/$stack.reviewed"
[[ $planned_environment == "$environment" ]] ||
  refuse "the plan in $out is environment $planned_environment's, not $environment's"
digest=$(sha256sum "$dir/cdk.tf.json" | cut -d' ' -f1)
[[ $digest == "$planned_digest" ]] ||
  refuse "this code synthesizes another $stack than the one planned (planned ${planned_digest:0:12}, now ${digest:0:12}): plan it again"
status=0
PYTHONPATH=$root python3 -m pipeline.plan_summary --guard "$out/$stack.json" || status=$?
((status == 0)) || { ((status == 2)) && refuse "the plan destroys or replaces the stateful resources named above" \
  "(plan: $out/$stack.txt). To apply it anyway: ALLOW_REPLACE=1 make apply ENV=$environment"; exit "$status"; }
if [[ -f $out/$stack.terraform.lock.hcl ]]; then
  cp "$out/$stack.terraform.lock.hcl" "$dir/.terraform.lock.hcl"
fi
terraform -chdir="$dir" init -reconfigure -input=false -no-color >"$out/$stack.init.log" ||
  { cat "$out/$stack.init.log" >&2; exit 1; }
if grep -q '^No changes\.' "$out/$stack.txt"; then
  echo "==> $stack ($environment): no changes, nothing to apply"
  exit 0
fi
echo "==> applying the reviewed plan of $stack ($environment): $out/$stack.tfplan"
terraform -chdir="$dir" apply -input=false -no-color "$out/$stack.tfplan"
