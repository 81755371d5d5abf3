# regwatch container: multi-stage build, slim Debian runtime, non-root, SQLite file on the /data volume.
# Builder uses the same Rust version as CI (rustc 1.95).
FROM rust:1.95-slim-bookworm AS builder
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
RUN cargo build --release --locked && strip target/release/regwatch

FROM debian:bookworm-slim
# chromium prints the letters to PDF (src/letters/pdf.rs); fonts-ipaexfont is the Japanese font they
# embed. Override the executable with REGWATCH_CHROMIUM.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 ca-certificates curl fonts-ipaexfont chromium \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin regwatch \
 && mkdir -p /data && chown regwatch:regwatch /data
COPY --from=builder /src/target/release/regwatch /usr/local/bin/regwatch
USER regwatch
WORKDIR /data
VOLUME ["/data"]
ENV REGWATCH_DATABASE_URL=sqlite:///data/regwatch.db \
    REGWATCH_BIND=0.0.0.0:8080 \
    REGWATCH_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["regwatch"]
CMD ["serve"]
