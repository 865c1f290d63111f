fn main() {
    guestkit::run::main(&guestkit::cmd::ctr_exec::SPEC, guestkit::cmd::ctr_exec::run)
}
