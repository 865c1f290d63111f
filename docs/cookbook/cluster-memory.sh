#!/bin/sh
# The same summary as cluster-memory.nu, for people without nushell: per
# node, its VMs, how many run, and the memory they are given. POSIX sh; jq.
vm-list | jq -rs '
    group_by(.node)[]
    | "\(.[0].node): \(length) VMs, \([.[] | select(.status == "running")] | length) running, \(([.[].memory_bytes] | add) / 1073741824) GiB"'
