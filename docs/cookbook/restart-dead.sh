#!/bin/bash
# A health check, for cron every minute: restarts the containers matching a
# pattern whose command has died, stopped with an exit code other than 0.
# Those ended by a signal (ctr-stop, ctr-kill: on purpose) are left alone.
# Needs jq.
#
#   * * * * *  /usr/local/bin/restart-dead.sh 'svc-*'
set -euo pipefail
pattern=${1:-*}

ctr-list --status stopped --name "$pattern" -o name |
    ctr-state |
    jq -c 'select((.exit_code // 0) != 0)' |
    ctr-restart |
    jq -r '"restarted \(.name), now \(.status)"'
