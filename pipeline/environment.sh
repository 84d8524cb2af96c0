# shellcheck shell=bash
# Sourced by pipeline/plan.sh and pipeline/apply.sh (with $root set): the environment (ENV,
# config.toml) in $environment, as config/settings.py resolves it (standard library only: any
# Python 3.11 reads it), and, when it lives in the emulator, the emulator's credentials.
mapfile -t facts < <(PYTHONPATH=$root python3 -m pipeline.config_get environment is_local)
environment=${facts[0]}
if [[ ${facts[1]} == True ]]; then
  # moto accepts any credentials; these are not secrets.
  export AWS_ACCESS_KEY_ID=emulator AWS_SECRET_ACCESS_KEY=emulator
fi
