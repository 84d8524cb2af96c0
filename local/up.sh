#!/usr/bin/env bash
# `make up`: the whole system in the local emulator, deployed with the same
# Terraform a real account gets. Safe to rerun: a running emulator and its
# state are kept, the stacks are synthesized again only when an input changed,
# and Terraform applies only what changed.
#
# The local stacks are synthesized into <emulator_state_dir>/cdktf.out
# (.emulator/cdktf.out by default), apart from `make synth`'s cdktf.out, so
# switching between the targets never re-initialises either.
#
# Last, the local staff member (ops/staff_user.py): created with
# a temporary password on a fresh emulator, printed with the site's address,
# and kept in <emulator_state_dir>/staff-credentials.json; a member that has
# chosen its own password is left as it is.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export DEPLOY_TARGET=local
python=$root/.venv/bin/python
out=$("$python" -m pipeline.config_get emulator_outdir)

started=$SECONDS
# The emulator starts while the stacks synthesize: neither needs the other.
local/emulator.sh start &
emulator=$!
"$python" -m pipeline.synth --outdir "$out"
wait "$emulator"
"$python" -m local.deploy --outdir "$out"
# SES keeps new identities pending until someone follows the link it e-mails: do that for the configured ones.
"$python" -m ops.verify_identities
"$python" -m local.summary --outdir "$out"
# The edge reads the deployment as it serves; a restart picks up a changed edge or port.
local/edge.sh start
"$python" -m ops.staff_user
echo "==> up in $((SECONDS - started)) s. The API key: make api-key; a staff ID token: make staff-token. Request log: make logs." \
  "'make down' stops everything and discards what the emulator holds."
