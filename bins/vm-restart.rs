fn main() {
    guestkit::run::main(
        &guestkit::cmd::vm_restart::SPEC,
        guestkit::cmd::vm_restart::run,
    )
}
