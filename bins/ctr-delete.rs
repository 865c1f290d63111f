fn main() {
    guestkit::run::main(
        &guestkit::cmd::ctr_delete::SPEC,
        guestkit::cmd::ctr_delete::run,
    )
}
