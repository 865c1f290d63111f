# Sourced by scripts/install, scripts/bench and scripts/bench-pve: release
# tools are linked statically, as static-pie (so still with address
# randomisation), where rustc makes that: x86_64 with glibc. A tool then
# starts without the dynamic loader, about 0.6 ms sooner on every
# run (docs/benchmarks.md). Elsewhere, or with GUESTKIT_STATIC=0, they are
# linked as cargo links them by default. --target keeps the flag off build
# scripts and proc-macros, which cannot be static. Sets RUSTFLAGS, TARGET_ARGS
# and RELEASE_DIR (where `cargo build --release $TARGET_ARGS` puts the tools).
host="$("${RUSTC:-rustc}" -vV)" || exit 1
host="$(printf '%s\n' "$host" | sed -n 's/^host: //p')"
if [ "$host" = x86_64-unknown-linux-gnu ] && [ "${GUESTKIT_STATIC:-1}" != 0 ]; then
    RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }-C target-feature=+crt-static"
    export RUSTFLAGS
    TARGET_ARGS="--target $host"
    RELEASE_DIR="target/$host/release"
else
    TARGET_ARGS=""
    RELEASE_DIR="target/release"
fi
