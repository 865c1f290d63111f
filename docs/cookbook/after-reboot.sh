#!/bin/sh
# After a host reboot: starts the containers before-reboot.sh stopped.
# POSIX sh; needs jq.
set -eu
list=${GUESTKIT_REBOOT_LIST:-/var/lib/guestkit/running-before-reboot}

[ -s "$list" ] || exit 0
ctr-start --jobs 4 <"$list" | jq -r '"\(.name): \(.status)"'
rm -f "$list"
