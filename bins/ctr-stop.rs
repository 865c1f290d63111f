fn main() {
    guestkit::run::main(&guestkit::cmd::ctr_stop::SPEC, guestkit::cmd::ctr_stop::run)
}
