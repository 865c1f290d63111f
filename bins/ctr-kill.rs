fn main() {
    guestkit::run::main(&guestkit::cmd::ctr_kill::SPEC, guestkit::cmd::ctr_kill::run)
}
