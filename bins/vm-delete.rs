fn main() {
    guestkit::run::main(
        &guestkit::cmd::vm_delete::SPEC,
        guestkit::cmd::vm_delete::run,
    )
}
