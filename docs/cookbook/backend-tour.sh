#!/bin/sh
# One backend from nothing to a running container and back: create, start,
# run a command in it, read its log, stop and delete. POSIX sh; needs jq.
#
#   backend-tour.sh lxc      (or crun, runc)
set -eu
backend=${1:?usage: backend-tour.sh lxc|crun|runc}
name=tour-$backend

ctr-create "$name" --backend "$backend" --memory 64M -- sh -c 'echo up; sleep 1000' |
    jq -r '"\(.action) \(.name) on \(.backend): \(.status)"'
ctr-start "$name" | jq -r '"\(.action): \(.status)"'
ctr-exec "$name" -- hostname
ctr-wait "$name" --for running -q
ctr-stop "$name" --timeout 5 | jq -r '"\(.action): \(.status)"'
ctr-logs "$name"
ctr-delete "$name" | jq -r '"\(.action): ok=\(.ok)"'
ctr-list --name "$name" -o name | wc -l
