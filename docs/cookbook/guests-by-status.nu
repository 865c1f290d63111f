# Containers and VMs in one table, counted by backend and status; then a
# bulk action chosen with `where`, no picker: stop the running lxc ones.
# nushell.
let guests = (ctr-list | from json --objects | select name backend status) ++ (vm-list | from json --objects | select name backend status)
$guests
| group-by backend status --to-table
| each {|g| {backend: $g.backend, status: $g.status, count: ($g.items | length)} }
| sort-by backend status
| to md
| print

ctr-list | from json --objects | where backend == lxc and status == running | get name | to text | ctr-stop --timeout 5 | from json --objects | select name status | to md | print
