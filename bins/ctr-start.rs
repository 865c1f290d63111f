fn main() {
    guestkit::run::main(
        &guestkit::cmd::ctr_start::SPEC,
        guestkit::cmd::ctr_start::run,
    )
}
