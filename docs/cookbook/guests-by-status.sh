#!/bin/sh
# The same table as guests-by-status.nu, for people without nushell:
# containers and VMs counted by backend and status. POSIX sh; jq.
{ ctr-list; vm-list; } | jq -rs '
    group_by([.backend, .status])[]
    | "\(.[0].backend) \(.[0].status): \(length)"'
