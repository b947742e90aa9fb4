"""Serving the console with uvicorn: alone (`crosspost console`) or beside the daemon in
one process (`crosspost run --console`), after the one check that must come first: an
address other than loopback is refused unless a password is set."""

from __future__ import annotations

import threading
from typing import Any

from pipeline.errors import ConfigError


def check_bind(settings: Any) -> None:
    """Refuse to listen where others can reach the console without a password."""
    console = settings.console
    if console.is_loopback():
        return
    if console.password is None or not console.password.get_secret_value():
        raise ConfigError(
            f"the console would listen on {console.bind}, which other machines can reach, "
            "without a password; set console.password in crosspost.toml (or "
            'CROSSPOST_CONSOLE__PASSWORD in .env), or keep console.bind = "127.0.0.1"'
        )


def with_address(settings: Any, bind: str | None, port: int | None) -> Any:
    """The settings with the console's address given on the command line, if any."""
    if bind is None and port is None:
        return settings
    changed = settings.console.model_copy(
        update={
            "bind": bind or settings.console.bind,
            "port": settings.console.port if port is None else port,
        }
    )
    return settings.model_copy(update={"console": changed})


def make_server(engine: Any, bind: str | None = None, port: int | None = None) -> Any:
    """A uvicorn server for the console over `engine`, not started yet."""
    import uvicorn

    from pipeline.console.app import make_app
    from pipeline.console.data import ConsoleData

    settings = engine.settings = with_address(engine.settings, bind, port)
    check_bind(settings)
    app = make_app(ConsoleData(engine))
    config = uvicorn.Config(
        app,
        host=settings.console.bind,
        port=settings.console.port,
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=2,
    )
    return uvicorn.Server(config)


def console_url(settings: Any) -> str:
    host = settings.console.bind
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{settings.console.port}/"


def serve_in_thread(server: Any) -> threading.Thread:
    """For `run --console`: the daemon keeps the main thread and its signal handlers."""
    server.install_signal_handlers = lambda: None  # older uvicorn: the daemon owns signals
    thread = threading.Thread(target=server.run, name="console", daemon=True)
    thread.start()
    return thread
