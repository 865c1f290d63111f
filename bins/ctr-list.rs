fn main() {
    guestkit::run::main(&guestkit::cmd::ctr_list::SPEC, guestkit::cmd::ctr_list::run)
}
