fn main() {
    guestkit::run::main(&guestkit::cmd::vm_list::SPEC, guestkit::cmd::vm_list::run)
}
