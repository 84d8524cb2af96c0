#!/usr/bin/env bash
# `make up`: the whole system in the local emulator, deployed with the same
# Terraform a real account gets. Safe to rerun: a running emulator and its
# state are kept, and Terraform applies only what changed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export DEPLOY_TARGET=local
# moto accepts any credentials; these are not secrets.
export AWS_ACCESS_KEY_ID=emulator AWS_SECRET_ACCESS_KEY=emulator
unset AWS_PROFILE AWS_SESSION_TOKEN

started=$SECONDS
scripts/emulator.sh start
echo "==> synthesizing both stacks (DEPLOY_TARGET=local; the provider bindings take ~20 s to load)"
npx --no-install cdktf synth
for stack in state-bootstrap student-management; do
  echo "==> deploying $stack (S3 lifecycle rules make the AWS provider wait ~55 s each)"
  npx --no-install cdktf deploy "$stack" --skip-synth --skip-provider-lock --auto-approve \
    --outputs-file "cdktf.out/$stack.outputs.json"
done
cp cdktf.out/student-management.outputs.json cdktf.out/outputs.json
.venv/bin/python scripts/summary.py
echo "==> up in $((SECONDS - started)) s. 'make down' stops the emulator and discards everything in it."
