#!/bin/sh
# Starts every stopped container whose name matches a pattern, four at a
# time, says what happened to each, and exits 1 if any is still stopped.
# POSIX sh; needs jq.
#
#   start-matching.sh 'web-*'
set -u
pattern=${1:?usage: start-matching.sh PATTERN}

ctr-list --status stopped --name "$pattern" |
    ctr-start --jobs 4 |
    jq -r 'if .ok then "started \(.name)" else "FAILED \(.name): \(.error.message)" end'

# A pipeline's exit code is its last command's: ask again what is stopped.
left=$(ctr-list --status stopped --name "$pattern" -o name)
if [ -n "$left" ]; then
    echo "still stopped: $(echo "$left" | tr '\n' ' ')" >&2
    exit 1
fi
