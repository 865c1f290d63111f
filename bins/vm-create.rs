fn main() {
    guestkit::run::main(
        &guestkit::cmd::vm_create::SPEC,
        guestkit::cmd::vm_create::run,
    )
}
