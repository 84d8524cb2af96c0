#!/usr/bin/env bash
# Prints the interpreter .venv-runtime is built with: the deployed functions' runtime, Python 3.13,
# from PATH or from pyenv's versions. Where the machine has none, prints the fallback given as $1
# (default python3) and says so on stderr: the local functions then run on another Python than AWS's.
set -euo pipefail
wanted=3.13
fallback=${1:-python3}
if python$wanted -c '' >/dev/null 2>&1; then
  command -v python$wanted
  exit 0
fi
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root)
  for version in $(pyenv versions --bare 2>/dev/null | grep -E "^${wanted//./\\.}(\\.[0-9]+)?\$" | sort -t. -k3 -n -r); do
    if [[ -x $root/versions/$version/bin/python$wanted ]]; then
      echo "$root/versions/$version/bin/python$wanted"
      exit 0
    fi
  done
fi
echo "warning: no Python $wanted on this machine (the functions' AWS runtime is python$wanted): the local" \
     "functions and their second test run use $("$fallback" --version 2>&1) instead. Install Python $wanted" \
     "(e.g. 'pyenv install $wanted' or your distribution's python$wanted) and rerun 'make setup'." >&2
command -v "$fallback"
