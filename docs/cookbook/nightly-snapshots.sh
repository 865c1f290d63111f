#!/bin/sh
# cron, nightly: snapshots every VM tagged "backup", and deletes its nightly
# snapshots older than 7 days. It prints nothing when all went well, so cron
# mails only when something did not, and then it exits 1.
# POSIX sh, with GNU date; needs jq.
#
#   15 2 * * *  /usr/local/bin/nightly-snapshots.sh
set -u
today=$(date -u +%Y%m%d)
cutoff=${CUTOFF:-$(date -u -d '7 days ago' +%Y-%m-%dT%H:%M:%SZ)}
failed=0

for vm in $(vm-list --tag backup -o name); do
    vm-snapshot -q "$vm" "nightly-$today" || failed=1
    old=$(vm-snapshot-list "$vm" | jq -r --arg cutoff "$cutoff" \
        'select((.snapshot | startswith("nightly-")) and .time < $cutoff) | .snapshot')
    for snapshot in $old; do
        vm-snapshot-delete -q "$vm" "$snapshot" || failed=1
    done
done
exit $failed
