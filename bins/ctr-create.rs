fn main() {
    guestkit::run::main(
        &guestkit::cmd::ctr_create::SPEC,
        guestkit::cmd::ctr_create::run,
    )
}
