#!/usr/bin/env bash
# `make plan`: a reviewable plan of each stack from the synthesized JSON in
# cdktf.out/: a binary plan (to apply exactly what was reviewed, with
# `terraform apply cdktf.out/plan/<stack>.tfplan` in the stack's directory),
# its text and its JSON (`terraform show -json`), then a one-screen summary of
# them (pipeline/plan_summary.py: stateful resources destroyed or replaced
# first, then changes by resource type). CDKTF_OUTDIR names another synthesized
# output (as for cdktf). Arguments name the stacks to plan (default: both);
# `make bootstrap` and `make deploy` plan one each.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
synth=${CDKTF_OUTDIR:-$root/cdktf.out}
out=$synth/plan
if [[ ${DEPLOY_TARGET:-aws} == local ]]; then
  # moto accepts any credentials; these are not secrets.
  export AWS_ACCESS_KEY_ID=emulator AWS_SECRET_ACCESS_KEY=emulator
fi
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
  terraform -chdir="$dir" init -input=false -no-color >"$out/$stack.init.log" ||
    { cat "$out/$stack.init.log" >&2; exit 1; }
  # A plan that is not written completely must not be reviewed or applied.
  rm -f "$out/$stack".{tfplan,txt,json}
  terraform -chdir="$dir" plan -input=false -out="$out/$stack.tfplan"
  terraform -chdir="$dir" show -no-color "$out/$stack.tfplan" >"$out/$stack.txt"
  terraform -chdir="$dir" show -json "$out/$stack.tfplan" >"$out/$stack.json"
  echo "    plan: $out/$stack.tfplan  text: $out/$stack.txt  json: $out/$stack.json"
  plans+=("$out/$stack.json")
done
echo "==> plan summary"
PYTHONPATH=$root python3 -m pipeline.plan_summary "${plans[@]}"
