fn main() {
    guestkit::run::main(&guestkit::cmd::vm_start::SPEC, guestkit::cmd::vm_start::run)
}
