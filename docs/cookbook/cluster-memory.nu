# Per node of a Proxmox VE cluster: its VMs, how many run, and the memory
# they are given. nushell.
vm-list | from json --objects
| group-by node --to-table
| each {|n| {
    node: $n.node,
    vms: ($n.items | length),
    running: ($n.items | where status == running | length),
    memory_gib: (($n.items | get memory_bytes | math sum) / 1073741824),
  } }
| sort-by node
| to md
| print
