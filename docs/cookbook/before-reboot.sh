#!/bin/sh
# Before a host reboot: stops every running container, and keeps their
# names, so that after-reboot.sh starts the same set again and no other.
# POSIX sh; needs jq.
set -eu
list=${GUESTKIT_REBOOT_LIST:-/var/lib/guestkit/running-before-reboot}

ctr-list --status running -o name >"$list"
ctr-stop --jobs 4 --timeout 30 <"$list" | jq -r '"\(.name): \(.status)"'
