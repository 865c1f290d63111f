fn main() {
    guestkit::run::main(&guestkit::cmd::vm_clone::SPEC, guestkit::cmd::vm_clone::run)
}
