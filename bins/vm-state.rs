fn main() {
    guestkit::run::main(&guestkit::cmd::vm_state::SPEC, guestkit::cmd::vm_state::run)
}
