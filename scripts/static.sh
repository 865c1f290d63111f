# Sourced by scripts/install and scripts/bench: release tools are linked
# statically (static-pie, so still with address randomisation). A tool then
# starts without the dynamic loader, about half a millisecond sooner on every
# run (docs/benchmarks.md). --target keeps the flag off build scripts and
# proc-macros, which cannot be static. Sets RUSTFLAGS, TARGET_ARGS and
# RELEASE_DIR (where `cargo build --release $TARGET_ARGS` puts the tools).
host="$(rustc -vV | sed -n 's/^host: //p')"
case "$host" in
*-linux-gnu*)
    RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }-C target-feature=+crt-static"
    export RUSTFLAGS
    TARGET_ARGS="--target $host"
    RELEASE_DIR="target/$host/release"
    ;;
*)
    TARGET_ARGS=""
    RELEASE_DIR="target/release"
    ;;
esac
