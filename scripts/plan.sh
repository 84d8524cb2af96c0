#!/usr/bin/env bash
# `make plan`: a reviewable plan of each stack from the synthesized JSON in
# cdktf.out/: a binary plan (to apply exactly what was reviewed, with
# `terraform apply cdktf.out/plan/<stack>.tfplan` in the stack's directory)
# and its text. CDKTF_OUTDIR names another synthesized output (as for cdktf).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
synth=${CDKTF_OUTDIR:-$root/cdktf.out}
out=$synth/plan
if [[ ${DEPLOY_TARGET:-aws} == local ]]; then
  # moto accepts any credentials; these are not secrets.
  export AWS_ACCESS_KEY_ID=emulator AWS_SECRET_ACCESS_KEY=emulator
fi
mkdir -p "$out"
for stack in state-bootstrap student-management; do
  dir=$synth/stacks/$stack
  echo "==> terraform plan: $stack"
  terraform -chdir="$dir" init -input=false -no-color >"$out/$stack.init.log" ||
    { cat "$out/$stack.init.log" >&2; exit 1; }
  terraform -chdir="$dir" plan -input=false -out="$out/$stack.tfplan"
  terraform -chdir="$dir" show -no-color "$out/$stack.tfplan" >"$out/$stack.txt"
  echo "    plan: $out/$stack.tfplan  text: $out/$stack.txt"
done
