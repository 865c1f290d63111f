#!/bin/sh
# A Proxmox VE VM from nothing to running and back: clone a template, start
# it, snapshot it, change it, stop and delete it. POSIX sh; needs jq.
# GUESTKIT_PVE_URL, GUESTKIT_PVE_TOKEN and GUESTKIT_PVE_FINGERPRINT (or the
# config guestkit-setup writes) say which cluster.
#
#   vm-tour.sh debian-12-template
set -eu
template=${1:?usage: vm-tour.sh TEMPLATE}

vm-clone "$template" tour-vm --start | jq -r '"\(.action) \(.name): VM \(.vmid) on \(.node), \(.status)"'
vm-snapshot tour-vm first | jq -r '"\(.action): ok=\(.ok)"'
vm-config tour-vm --set memory=1024 |
    jq -r '"\(.action): changed=\(.changed); waits for a restart: \(.pending | join(", "))"'
vm-state tour-vm | jq -r '"\(.name): \(.status), \(.memory_bytes / 1048576) MiB"'
vm-stop tour-vm | jq -r '"\(.action): \(.status)"'
vm-delete tour-vm | jq -r '"\(.action): ok=\(.ok)"'
