#!/usr/bin/env bash
# `make plan`: a reviewable plan of each stack from the synthesized JSON in
# cdktf.out/: a binary plan (to apply exactly what was reviewed, with
# `terraform apply cdktf.out/plan/<stack>.tfplan` in the stack's directory),
# its text (what the plan printed, without colours) and its JSON (`terraform
# show -json`), then a one-screen summary of them (pipeline/plan_summary.py:
# stateful resources destroyed or replaced first, then changes by resource
# type). CDKTF_OUTDIR names another synthesized output (as for cdktf).
# Arguments name the stacks to plan (default: both; `make plan ENV=<aws
# environment>` plans the environment's own stack only); `make bootstrap` and
# `make deploy` plan one each. Beside each plan, <stack>.reviewed and
# <stack>.terraform.lock.hcl let `make apply` (pipeline/apply.sh)
# apply it on another machine, as the delivery pipeline does.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
synth=${CDKTF_OUTDIR:-$root/cdktf.out}
out=$synth/plan
# The environment in $environment; the emulator's credentials when it lives there.
# shellcheck source=pipeline/environment.sh
source "$root/pipeline/environment.sh"
if ((!$#)); then
  # Both stacks, in deploy order, as config/settings.py names them (standard
  # library only: any Python 3.11 reads it, as it runs plan_summary.py).
  names=$(PYTHONPATH=$root python3 -c 'import config.settings as c; print(c.BOOTSTRAP_STACK, c.APP_STACK)')
  read -r -a stacks <<<"$names"
  set -- "${stacks[@]}"
fi
# The saved plan and its JSON hold sensitive values in clear (the API key's, in
# the secret version): readable by their owner only.
umask 077
mkdir -p "$out"
plans=()
for stack in "$@"; do
  dir=$synth/stacks/$stack
  echo "==> terraform plan: $stack"
  # -reconfigure: the directory may last have been initialized for another environment's state
  # key; its state is never copied to this one's (which -migrate-state would offer).
  terraform -chdir="$dir" init -reconfigure -input=false -no-color >"$out/$stack.init.log" ||
    { cat "$out/$stack.init.log" >&2; exit 1; }
  # A plan that is not written completely must not be reviewed or applied.
  rm -f "$out/$stack".{tfplan,txt,json,reviewed,terraform.lock.hcl,plan.log}
  # The text is the plan's own output, as shown here, without its colours: a `terraform show` of the
  # saved plan would render the same changes again, at the cost of one more start of the AWS provider.
  # It is written once the plan succeeded; a failed plan leaves its output in <stack>.plan.log.
  terraform -chdir="$dir" plan -input=false -out="$out/$stack.tfplan" | tee "$out/$stack.plan.log"
  sed 's/\x1b\[[0-9;]*m//g' "$out/$stack.plan.log" >"$out/$stack.txt"
  rm "$out/$stack.plan.log"
  terraform -chdir="$dir" show -json "$out/$stack.tfplan" >"$out/$stack.json"
  # What `make apply` checks before applying this plan elsewhere (pipeline/apply.sh): the
  # environment, the digest of the stack it was made from, and the providers it was made with.
  echo "$environment $(sha256sum "$dir/cdk.tf.json" | cut -d' ' -f1)" >"$out/$stack.reviewed"
  cp "$dir/.terraform.lock.hcl" "$out/$stack.terraform.lock.hcl"
  echo "    plan: $out/$stack.tfplan  text: $out/$stack.txt  json: $out/$stack.json"
  plans+=("$out/$stack.json")
done
echo "==> plan summary"
PYTHONPATH=$root python3 -m pipeline.plan_summary "${plans[@]}"
