#!/bin/sh
# A container on a Proxmox VE cluster from nothing to running and back,
# with the same ctr-* tools as local ones. POSIX sh; needs jq.
set -eu

ctr-create tour-ct --backend proxmox --image debian-12 --memory 256M |
    jq -r '"\(.action) \(.name) on \(.backend): \(.status)"'
ctr-start tour-ct | jq -r '"\(.action): \(.status)"'
ctr-list --backend proxmox --name 'tour-*' | jq -r '"\(.name): VM \(.vmid) on \(.node)"'
ctr-stop tour-ct | jq -r '"\(.action): \(.status)"'
ctr-delete tour-ct | jq -r '"\(.action): ok=\(.ok)"'
