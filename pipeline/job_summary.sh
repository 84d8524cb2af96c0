#!/usr/bin/env bash
# A workflow step's report: runs COMMAND, shows its output, and appends that output under TITLE to the job's
# summary page ($GITHUB_STEP_SUMMARY, as a preformatted block), then exits with COMMAND's status, so a drift
# report (make drift: 2) or a failed plan summary still fails the step after it is on the page.
#   pipeline/job_summary.sh TITLE COMMAND [ARG ...]
set -uo pipefail
title=${1:?usage: job_summary.sh TITLE COMMAND [ARG ...]}
shift
summary=${GITHUB_STEP_SUMMARY:?job_summary.sh: GITHUB_STEP_SUMMARY is not set (it runs in a GitHub Actions step)}
output=$(mktemp)
trap 'rm -f "$output"' EXIT
"$@" 2>&1 | tee "$output"
status=${PIPESTATUS[0]}
{
  echo "## $title"
  echo
  echo '```'
  cat "$output"
  echo '```'
  ((status == 0)) || printf '\nexit status %d\n' "$status"
} >>"$summary"
exit "$status"
