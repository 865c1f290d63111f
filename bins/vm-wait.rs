fn main() {
    guestkit::run::main(&guestkit::cmd::vm_wait::SPEC, guestkit::cmd::vm_wait::run)
}
