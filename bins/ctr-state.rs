fn main() {
    guestkit::run::main(
        &guestkit::cmd::ctr_state::SPEC,
        guestkit::cmd::ctr_state::run,
    )
}
