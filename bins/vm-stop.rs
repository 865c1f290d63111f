fn main() {
    guestkit::run::main(&guestkit::cmd::vm_stop::SPEC, guestkit::cmd::vm_stop::run)
}
