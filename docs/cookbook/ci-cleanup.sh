#!/bin/sh
# cron, hourly: deletes the throwaway CI containers (named ci-*) created more
# than a day ago, running or not. Prints what it deleted.
# POSIX sh, with GNU date; needs jq.
set -eu
cutoff=${CUTOFF:-$(date -u -d '1 day ago' +%Y-%m-%dT%H:%M:%SZ)}

ctr-list --name 'ci-*' |
    jq -c --arg cutoff "$cutoff" 'select(.created != null and .created < $cutoff)' |
    ctr-delete --force --jobs 4 |
    jq -r '"deleted \(.name)"'
