fn main() {
    guestkit::run::main(&guestkit::cmd::ctr_run::SPEC, guestkit::cmd::ctr_run::run)
}
