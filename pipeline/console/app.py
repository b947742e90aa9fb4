"""The console's pages and buttons: Starlette routes over `ConsoleData`, rendered on the
server with Jinja2. Every step is a plain form (POST, then a redirect to a page that says
what happened), so the console works without JavaScript; the one script only adds the
live log tail (server-sent events) to a page that already lists the lines."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from pipeline.console import views
from pipeline.console.data import ConsoleData, QueueFilter, StepRefused
from pipeline.console.security import (
    CSRF_FIELD,
    SESSION_COOKIE,
    Guard,
    SecurityHeaders,
    allowed_hosts,
)
from pipeline.logs import human_line
from pipeline.store import State

HERE = Path(__file__).parent
OPEN_PATHS = ("/login", "/static/")
TAIL_EVERY = 0.5  # seconds between looks at the log file


class Console:
    """One console: its data door, its guard, its templates and its flash messages."""

    def __init__(self, data: ConsoleData, guard: Guard) -> None:
        self.data = data
        self.guard = guard
        self.flashes: dict[str, list[tuple[str, str]]] = {}
        self.templates = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        zone = data.zone
        self.templates.filters["when"] = lambda moment: views.shown_time(moment, zone)
        self.templates.filters["field_time"] = lambda moment: views.input_time(moment, zone)
        self.templates.filters["pretty"] = views.pretty
        self.templates.globals["steps_shown"] = views.STEPS_SHOWN
        self.templates.globals["split_error"] = views.split_error
        self.templates.globals["body_html"] = views.body_html
        self.templates.globals["one_day"] = timedelta(days=1)

    # -- rendering ----------------------------------------------------------

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        session = request.scope.get("console_session", "")
        html = self.templates.get_template(name).render(
            request=request,
            csrf=self.guard.csrf_token(session) if session else "",
            csrf_field=CSRF_FIELD,
            flashes=self.flashes.pop(session, []),
            zone=self.data.settings.timezone,
            signed_in=self.guard.needs_login and self.guard.allowed(session),
            path=request.url.path,
            **context,
        )
        return HTMLResponse(self.scrub(html), status_code=status)

    def scrub(self, text: str) -> str:
        """Last line of defence: no configured secret leaves the console in any answer."""
        for secret in self.data.secret_values():
            text = text.replace(secret, "[redacted]")
        return text

    def flash(self, request: Request, kind: str, text: str) -> None:
        session = request.scope.get("console_session", "")
        self.flashes.setdefault(session, []).append((kind, self.scrub(text)))


PostHandler = Callable[[Console, Request, FormData], Awaitable[Response]]


def post_action(handler: PostHandler) -> Callable[[Request], Awaitable[Response]]:
    """Every form's handler: the CSRF token checked first (403 without it), then the step."""

    @functools.wraps(handler)
    async def checked(request: Request) -> Response:
        console: Console = request.app.state.console
        form = await request.form(max_files=0, max_fields=20, max_part_size=64 * 1024)
        session = request.scope.get("console_session")
        if not console.guard.csrf_ok(session, str(form.get(CSRF_FIELD) or "")):
            raise HTTPException(403, "this form has expired or did not come from the console")
        return await handler(console, request, form)

    return checked


def back(request: Request, form: FormData, default: str) -> RedirectResponse:
    """Back to the page the form was on (a local path only), else to `default`."""
    target = str(form.get("next") or "")
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = default
    return RedirectResponse(target, status_code=303)


def number(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def day_of(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


# ----------------------------------------------------------------------------- pages


async def home(request: Request) -> Response:
    return RedirectResponse("/queue", status_code=303)


async def queue(request: Request) -> Response:
    console: Console = request.app.state.console
    q = request.query_params
    zone = console.data.zone
    since, until = day_of(q.get("from")), day_of(q.get("to"))
    filters = QueueFilter(
        state=q.get("state") or None,
        target=q.get("target") or None,
        essay=number(q.get("essay")),
        since=since.replace(tzinfo=zone).astimezone(UTC) if since else None,
        until=until.replace(tzinfo=zone).astimezone(UTC) if until else None,
    )
    result = console.data.queue(filters, q.get("after"), q.get("before"))
    kept = {k: v for k, v in q.items() if k not in {"after", "before"} and v}
    return console.page(
        request,
        "queue.html",
        page=result,
        filters=kept,
        counts=console.data.state_counts(),
        states=[s.value for s in State],
        targets=console.data.targets(),
        failed_files=console.data.failed_files(),
        health=console.data.daemon_health(),
        next_link="?" + urlencode({**kept, "after": result.following})
        if result.following
        else None,
        previous_link="?" + urlencode({**kept, "before": result.previous})
        if result.previous
        else None,
    )


async def publication(request: Request) -> Response:
    console: Console = request.app.state.console
    pub_id = int(request.path_params["pub_id"])
    view = console.data.publication(pub_id)
    if view is None:
        raise HTTPException(404, f"no publication {pub_id}")
    posts, render_error = console.data.request_body(view.row)
    handoff = next(
        (e["data"].get("location") for e in reversed(view.events) if "location" in e["data"]),
        None,
    )
    return console.page(
        request,
        "publication.html",
        view=view,
        row=view.row,
        posts=posts,
        render_error=render_error,
        handoff=handoff,
        journal=views.journal(view.row.progress),
    )


async def essay(request: Request) -> Response:
    console: Console = request.app.state.console
    essay_id = int(request.path_params["essay_id"])
    view = console.data.essay(essay_id)
    if view is None:
        raise HTTPException(404, f"no essay {essay_id}")
    by_target = {p.target: p for p in view.publications}
    return console.page(request, "essay.html", view=view, by_target=by_target)


async def calendar(request: Request) -> Response:
    console: Console = request.app.state.console
    zone = console.data.zone
    q = request.query_params
    today = datetime.now(zone).date()
    try:
        anchor = date.fromisoformat(q.get("date") or today.isoformat())
    except ValueError:
        anchor = today
    grid = views.grid(q.get("view") or "week", anchor, zone, today)
    target = q.get("target") or None
    found = console.data.calendar(grid.start, grid.end, target)
    items = found.items
    views.place(grid, items, zone)
    settings = console.data.settings.targets
    targets = [t for t in settings if not target or t == target]
    return console.page(
        request,
        "calendar.html",
        grid=grid,
        targets=targets,
        all_targets=list(settings),
        target_settings=settings,
        chosen=target or "",
        cut=found.cut,
        cell_items=views.CELL_ITEMS,
    )


async def logs(request: Request) -> Response:
    console: Console = request.app.state.console
    level, essay_id, target = log_filters(request)
    lines = console.data.log_lines(level, essay_id, target)
    return console.page(
        request,
        "logs.html",
        lines=[(line, human_line(line)) for line in lines],
        level=level,
        essay=essay_id,
        target=target or "",
        targets=console.data.targets(),
        stream="/logs/stream?" + urlencode(dict(request.query_params)),
    )


def log_filters(request: Request) -> tuple[str, int | None, str | None]:
    q = request.query_params
    level = q.get("level") or "info"
    if level not in {"debug", "info", "warning", "error"}:
        level = "info"
    return level, number(q.get("essay")), q.get("target") or None


async def log_stream(request: Request) -> Response:
    """Server-sent events: each new matching log line as its readable text."""
    console: Console = request.app.state.console
    level, essay_id, target = log_filters(request)
    from pipeline.cli import log_line_wanted

    async def events() -> AsyncIterator[str]:
        position = console.data.log_end()
        yield ": tail started\n\n"
        while not await request.is_disconnected():
            position = await asyncio.to_thread(console.data.log_tail, position)
            for line in position.lines:
                if log_line_wanted(line, level, essay_id, target):
                    data = json.dumps(
                        {"text": human_line(line), "level": line.get("level", "info")},
                        ensure_ascii=False,
                    )
                    yield f"data: {console.scrub(data)}\n\n"
            await asyncio.sleep(TAIL_EVERY)

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"x-accel-buffering": "no"}
    )


async def accounts(request: Request) -> Response:
    console: Console = request.app.state.console
    return console.page(
        request,
        "accounts.html",
        accounts=console.data.accounts(),
        check=console.data.last_check,
    )


async def drop_page(request: Request) -> Response:
    console: Console = request.app.state.console
    return console.page(
        request,
        "drop.html",
        failed_files=console.data.failed_files(),
        limit=console.data.settings.console.upload_limit_bytes,
    )


async def drop(request: Request) -> Response:
    """An upload into the inbox: size-limited before and while reading, CSRF-checked."""
    console: Console = request.app.state.console
    limit = console.data.settings.console.upload_limit_bytes
    declared = number(request.headers.get("content-length"))
    if declared is None or declared > limit + 64 * 1024:
        raise HTTPException(413, f"an upload may be at most {limit} bytes")
    form = await request.form(max_files=1, max_fields=5, max_part_size=64 * 1024)
    if not console.guard.csrf_ok(
        request.scope.get("console_session"), str(form.get(CSRF_FIELD) or "")
    ):
        raise HTTPException(403, "this form has expired or did not come from the console")
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        console.flash(request, "error", "choose a file to drop")
        return RedirectResponse("/drop", status_code=303)
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, f"an upload may be at most {limit} bytes")
    try:
        said = console.data.drop(upload.filename, data)
    except StepRefused as exc:
        console.flash(request, "error", str(exc))
        return RedirectResponse("/drop", status_code=303)
    console.flash(request, "ok", said)
    return RedirectResponse("/queue", status_code=303)


# ------------------------------------------------------------------------------ steps


@post_action
async def step(console: Console, request: Request, form: FormData) -> Response:
    pub_id = int(request.path_params["pub_id"])
    action = request.path_params["action"]
    data = console.data
    steps: dict[str, Callable[[], str]] = {
        "retry": lambda: data.retry(pub_id),
        "cancel": lambda: data.cancel(pub_id),
        "reschedule": lambda: data.reschedule(pub_id, str(form.get("when") or "")),
        "confirm": lambda: data.confirm(pub_id, str(form.get("url") or "")),
    }
    if action not in steps:
        raise HTTPException(404, f"no step {action!r}")
    try:
        said = await asyncio.to_thread(steps[action])
        console.flash(request, "ok", said)
    except StepRefused as exc:
        console.flash(request, "error", f"{exc}")
    return back(request, form, f"/publications/{pub_id}")


@post_action
async def retry_file(console: Console, request: Request, form: FormData) -> Response:
    try:
        console.flash(request, "ok", console.data.retry_file(str(form.get("name") or "")))
    except StepRefused as exc:
        console.flash(request, "error", str(exc))
    return back(request, form, "/drop")


@post_action
async def check_accounts(console: Console, request: Request, form: FormData) -> Response:
    check = await asyncio.to_thread(console.data.check_accounts)
    kind = "error" if check.failures else "ok"
    console.flash(request, kind, f"accounts checked: {check.failures} failed")
    return RedirectResponse("/accounts", status_code=303)


# ------------------------------------------------------------------------------ login


async def login_page(request: Request) -> Response:
    console: Console = request.app.state.console
    if not console.guard.needs_login:
        return RedirectResponse("/queue", status_code=303)
    return console.page(request, "login.html")


@post_action
async def login(console: Console, request: Request, form: FormData) -> Response:
    session = request.scope["console_session"]
    if console.guard.password_ok(str(form.get("password") or "")):
        console.guard.signed_in.add(session)
        return RedirectResponse("/queue", status_code=303)
    console.flash(request, "error", "wrong password")
    return RedirectResponse("/login", status_code=303)


@post_action
async def logout(console: Console, request: Request, form: FormData) -> Response:
    console.guard.signed_in.discard(request.scope["console_session"])
    return RedirectResponse("/login", status_code=303)


# -------------------------------------------------------------------------- the gate


class SessionGate:
    """ASGI middleware: a session cookie for every browser (HttpOnly, SameSite=Strict), and
    with a password set, nothing but the login page until the session has signed in."""

    def __init__(self, app: Any, guard: Guard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        session = request.cookies.get(SESSION_COOKIE)
        fresh = not session or len(session) > 100
        if fresh:
            session = self.guard.new_session()
        scope["console_session"] = session
        path = scope["path"]
        if not self.guard.allowed(session) and not path.startswith(OPEN_PATHS):
            response: Any = RedirectResponse("/login", status_code=303)
            if request.method != "GET":
                response = Response("sign in first", status_code=403)
            await self._send_with_cookie(response, scope, receive, send, session if fresh else None)
            return
        if not fresh:
            await self.app(scope, receive, send)
            return

        async def with_cookie(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), cookie_header(session)]
            await send(message)

        await self.app(scope, receive, with_cookie)

    @staticmethod
    async def _send_with_cookie(
        response: Response, scope: Any, receive: Any, send: Any, session: str | None
    ) -> None:
        if session:
            response.raw_headers.append(cookie_header(session))
        await response(scope, receive, send)


def cookie_header(session: str) -> tuple[bytes, bytes]:
    value = f"{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Strict"
    return b"set-cookie", value.encode("ascii")


async def refused(request: Request, exc: Exception) -> Response:
    """Errors as a short page in the console's words (never a traceback)."""
    console: Console = request.app.state.console
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else "something went wrong"
    return console.page(request, "error.html", status=status, status_code=status, detail=detail)


def make_app(data: ConsoleData) -> Starlette:
    settings = data.settings.console
    guard = Guard(settings.password)
    routes = [
        Route("/", home),
        Route("/queue", queue),
        Route("/publications/{pub_id:int}", publication),
        Route("/publications/{pub_id:int}/{action}", step, methods=["POST"]),
        Route("/essays/{essay_id:int}", essay),
        Route("/calendar", calendar),
        Route("/logs", logs),
        Route("/logs/stream", log_stream),
        Route("/accounts", accounts),
        Route("/accounts/check", check_accounts, methods=["POST"]),
        Route("/drop", drop_page),
        Route("/drop", drop, methods=["POST"]),
        Route("/failed/retry", retry_file, methods=["POST"]),
        Route("/login", login_page),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    hosts = allowed_hosts(settings.bind, settings.port, settings.is_loopback())
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(TrustedHostMiddleware, allowed_hosts=hosts),
            Middleware(SessionGate, guard=guard),
        ],
        exception_handlers={HTTPException: refused, Exception: refused},
    )
    app.state.console = Console(data, guard)
    return app
