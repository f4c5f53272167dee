# pswatch: a small image with the service and the simulator, running as a non-root user with
# its state on a volume.
#
#   docker build -t pswatch .
#   docker run -v pswatch-state:/var/lib/pswatch -v $PWD/pswatch.toml:/etc/pswatch/pswatch.toml:ro \
#     -e PLANETSCALE_SERVICE_TOKEN_ID -e PLANETSCALE_SERVICE_TOKEN pswatch

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin pswatch \
 && cargo build --release --locked -p simulator --bin pswatch-simulator \
 && strip target/release/pswatch target/release/pswatch-simulator

FROM debian:bookworm-slim
# TLS roots are compiled in (rustls with webpki-roots), so the image needs no CA bundle.
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/pswatch --create-home --shell /usr/sbin/nologin pswatch
COPY --from=build /src/target/release/pswatch /usr/local/bin/pswatch
COPY --from=build /src/target/release/pswatch-simulator /usr/local/bin/pswatch-simulator
COPY config/example.toml /etc/pswatch/example.toml
USER pswatch:pswatch
WORKDIR /var/lib/pswatch
VOLUME ["/var/lib/pswatch"]
ENV PSWATCH_CONFIG=/etc/pswatch/pswatch.toml
# SIGTERM stops pswatch cleanly (in-flight deliveries finish, the store is flushed).
STOPSIGNAL SIGTERM
ENTRYPOINT ["pswatch"]
CMD ["run"]
