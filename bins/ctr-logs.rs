fn main() {
    guestkit::run::main(&guestkit::cmd::ctr_logs::SPEC, guestkit::cmd::ctr_logs::run)
}
