# crosspost: the daemon in a container. Everything it owns lives in the volume
# /home/crosspost (crosspost.toml, .env, inbox/, processed/, failed/, site/, outbox/,
# logs/, and crosspost.db unless CROSSPOST_DATABASE_URL points at PostgreSQL).
#
#   docker build -t crosspost .
#   docker run -d -v crosspost-home:/home/crosspost crosspost            # the daemon
#   docker run --rm -v crosspost-home:/home/crosspost crosspost status   # any command
#   docker run -d -v crosspost-home:/home/crosspost -p 127.0.0.1:8040:8040 \
#     -e CROSSPOST_CONSOLE__PASSWORD=... crosspost run --console --bind 0.0.0.0   # + console
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml ./
COPY pipeline ./pipeline
COPY connectors ./connectors
RUN pip install ".[postgres]" && rm -rf /src

# An unprivileged user owns the home folder; the image never runs as root.
RUN groupadd --system --gid 10001 crosspost \
    && useradd --system --uid 10001 --gid crosspost --home-dir /home/crosspost \
       --create-home --shell /usr/sbin/nologin crosspost

ENV CROSSPOST_HOME=/home/crosspost
USER crosspost
WORKDIR /home/crosspost
# Files the daemon creates (database, logs) are private to its user.
RUN umask 077 && crosspost init /home/crosspost
VOLUME /home/crosspost

# Healthy when the settings load, the database answers and the daemon's heartbeat is fresh:
# `crosspost status --daemon` exits 3 when the daemon is stale or unhealthy (locked database,
# full disk; the reason is printed), 0 when it ticks.
HEALTHCHECK --interval=60s --timeout=30s --start-period=30s --retries=3 \
    CMD ["crosspost", "status", "--daemon"]

# The operator console (`run --console`, `console`): off unless asked for; any bind other
# than loopback needs CROSSPOST_CONSOLE__PASSWORD.
EXPOSE 8040

STOPSIGNAL SIGTERM
ENTRYPOINT ["crosspost"]
CMD ["run"]
