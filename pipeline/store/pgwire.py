"""Just enough of PostgreSQL's wire protocol (v3, simple queries) for a read-only command.

psycopg 3 costs 160-200 ms to import on this machine kind (asyncio, importlib.metadata,
ctypes), more than all of `crosspost status`'s own work. A read-only look needs a TCP
connection, a startup message, trust authentication and the simple-query protocol: about
a hundred lines of the standard library. Anything beyond that (a password, TLS, a Unix
socket, URL options other than `options`) raises `Unsupported` and the caller takes the
full path, which speaks through psycopg and libpq as every other command does.

Results come back as text and are converted by column type: integers, booleans,
timestamps (the session's time zone is UTC), text for the rest.
"""

from __future__ import annotations

import contextlib
import socket
import struct
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

PROTOCOL_V3 = 196608
INTEGER_TYPES = {20, 21, 23}  # int8, int2, int4
BOOL_TYPE = 16
TIME_TYPES = {1114, 1184}  # timestamp, timestamptz
CONNECT_TIMEOUT_S = 10.0


class Unsupported(Exception):
    """This connection needs more than the quick reader speaks: use the full driver."""


class ServerError(Exception):
    """The server answered a query with an error."""


def _message(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


class PgConnection:
    """One connection; `query` returns every row of one SQL statement as Python values."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        if not parts.scheme.startswith("postgresql") or parts.password or set(query) - {"options"}:
            raise Unsupported("a password, URL options other than `options`, another scheme")
        if not parts.hostname or not parts.username:
            raise Unsupported("a Unix socket or the default user")
        user = unquote(parts.username)
        database = unquote(parts.path.lstrip("/")) or user
        self.sock = socket.create_connection(
            (parts.hostname, parts.port or 5432), timeout=CONNECT_TIMEOUT_S
        )
        self.buffer = b""
        params = {
            "user": user,
            "database": database,
            "client_encoding": "UTF8",
            "DateStyle": "ISO",
            "TimeZone": "UTC",
            "application_name": "crosspost status",
            **query,  # `options` (e.g. "-c TimeZone=..."): times are converted to UTC anyway
        }
        body = struct.pack("!i", PROTOCOL_V3)
        body += b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in params.items())
        body += b"\0"
        self.sock.sendall(struct.pack("!i", len(body) + 4) + body)
        self._until_ready(authenticating=True)

    def _read(self, count: int) -> bytes:
        while len(self.buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ServerError("the server closed the connection")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def _next(self) -> tuple[bytes, bytes]:
        kind, length = struct.unpack("!ci", self._read(5))
        return kind, self._read(length - 4)

    def _until_ready(self, authenticating: bool = False) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        types: list[int] = []
        error: str | None = None
        while True:
            kind, body = self._next()
            if kind == b"R" and struct.unpack("!i", body[:4])[0] != 0:
                raise Unsupported("the server asks for a password")
            if kind == b"E":
                fields = dict(
                    (f[:1], f[1:].decode("utf-8", "replace")) for f in body.split(b"\0") if f
                )
                error = fields.get(b"M", "error")
                if authenticating:
                    raise Unsupported(error)
            elif kind == b"T":
                types = _column_types(body)
            elif kind == b"D":
                rows.append(_row(body, types))
            elif kind == b"Z":
                if error is not None:
                    raise ServerError(error)
                return rows

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        self.sock.sendall(_message(b"Q", sql.encode() + b"\0"))
        return self._until_ready()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.sendall(_message(b"X", b""))
        self.sock.close()


def _column_types(body: bytes) -> list[int]:
    (count,) = struct.unpack("!h", body[:2])
    offset = 2
    types = []
    for _ in range(count):
        offset = body.index(b"\0", offset) + 1  # the column's name
        types.append(struct.unpack("!i", body[offset + 6 : offset + 10])[0])
        offset += 18
    return types


def _row(body: bytes, types: list[int]) -> tuple[Any, ...]:
    (count,) = struct.unpack("!h", body[:2])
    offset = 2
    values: list[Any] = []
    for index in range(count):
        (length,) = struct.unpack("!i", body[offset : offset + 4])
        offset += 4
        if length < 0:
            values.append(None)
            continue
        text = body[offset : offset + length].decode("utf-8")
        offset += length
        values.append(_value(text, types[index]))
    return tuple(values)


def _value(text: str, type_oid: int) -> Any:
    if type_oid in INTEGER_TYPES:
        return int(text)
    if type_oid == BOOL_TYPE:
        return text == "t"
    if type_oid in TIME_TYPES:
        return datetime.fromisoformat(text)
    return text
