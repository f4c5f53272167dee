# pswatch: a small image with the service and the simulator, running as uid:gid 10001:10001
# with its state in /var/lib/pswatch (mount a volume there; a bind-mounted directory must be
# writable by uid 10001).
#
#   docker build -t pswatch:local .
#   docker run -d --name pswatch \
#     -v pswatch-state:/var/lib/pswatch \
#     -v "$PWD/pswatch.toml:/etc/pswatch/pswatch.toml:ro" \
#     -e PLANETSCALE_SERVICE_TOKEN_ID -e PLANETSCALE_SERVICE_TOKEN -e PSWATCH_ADMIN_TOKEN \
#     -p 127.0.0.1:9184:9184 \
#     pswatch:local
#
# With `[admin] listen = "0.0.0.0:9184"` and `token = "${PSWATCH_ADMIN_TOKEN}"` in pswatch.toml
# (off loopback the admin server needs a token) it is reachable through the published port (on
# the host's loopback only, as above). The health check runs
# `pswatch health`, which asks /readyz; the image has no curl.

FROM rust:1-bookworm AS build
WORKDIR /src
# The manifests first, with placeholder sources (every library, binary and declared bench,
# whatever its name): the dependencies build in a layer of their own, which a change of
# pswatch's own code does not invalidate.
COPY Cargo.toml Cargo.lock ./
COPY crates/diff-engine/Cargo.toml crates/diff-engine/
COPY crates/http-util/Cargo.toml crates/http-util/
COPY crates/model/Cargo.toml crates/model/
COPY crates/notifier/Cargo.toml crates/notifier/
COPY crates/poller/Cargo.toml crates/poller/
COPY crates/simulator/Cargo.toml crates/simulator/
COPY crates/store/Cargo.toml crates/store/
RUN set -eu; \
    placeholder() { mkdir -p "$(dirname "$1")"; printf '//! Placeholder for the dependency layer.\nfn main() {}\n' > "$1"; }; \
    for manifest in Cargo.toml crates/*/Cargo.toml; do \
      dir=$(dirname "$manifest"); \
      awk '/^\[\[bench\]\]/ { bench = 1; next } bench && /^name *=/ { gsub(/^name *= *"|".*$/, ""); print; bench = 0 }' "$manifest" \
        | while read -r bench; do placeholder "$dir/benches/$bench.rs"; done; \
    done; \
    for crate in diff-engine http-util model notifier poller simulator store; do \
      placeholder "crates/$crate/src/lib.rs"; \
    done; \
    placeholder crates/pswatch/main.rs; \
    placeholder crates/simulator/src/main.rs; \
    cargo build --release --locked --bin pswatch; \
    cargo build --release --locked -p simulator --bin pswatch-simulator
# The sources, newer than the placeholders so that cargo rebuilds pswatch's own crates.
COPY . .
RUN find crates benches -name '*.rs' -exec touch {} + \
 && cargo build --release --locked --bin pswatch \
 && cargo build --release --locked -p simulator --bin pswatch-simulator \
 && strip target/release/pswatch target/release/pswatch-simulator

FROM debian:bookworm-slim
# TLS roots are compiled in (rustls with webpki-roots), so the image needs no CA bundle. A fixed
# uid and gid, no home directory: the state directory holds pswatch's store only.
RUN groupadd --system --gid 10001 pswatch \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin pswatch \
 && mkdir -p /var/lib/pswatch /etc/pswatch \
 && chown 10001:10001 /var/lib/pswatch
COPY --from=build /src/target/release/pswatch /usr/local/bin/pswatch
COPY --from=build /src/target/release/pswatch-simulator /usr/local/bin/pswatch-simulator
COPY config/example.toml /etc/pswatch/example.toml
USER 10001:10001
WORKDIR /var/lib/pswatch
ENV PSWATCH_CONFIG=/etc/pswatch/pswatch.toml
# The admin server (/healthz, /readyz, /metrics, /api/status) and the webhook receiver.
EXPOSE 9184 9185
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 CMD ["pswatch", "health"]
# SIGTERM stops pswatch cleanly (in-flight deliveries finish, the store is flushed).
STOPSIGNAL SIGTERM
ENTRYPOINT ["pswatch"]
CMD ["run"]
