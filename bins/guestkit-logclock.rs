fn main() {
    std::process::exit(guestkit::backend::logclock::main(
        std::env::args_os().collect(),
    ));
}
