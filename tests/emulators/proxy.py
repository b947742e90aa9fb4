"""A fault-injecting reverse proxy in front of a real server (WordPress, Ghost, a PDS).

Real servers cannot be told to lose a response; this proxy can. It forwards every request
unchanged and applies the same `inject(...)` faults as the emulators, so the one contract
suite runs the same lost-response and rate-limit cases against real software.
"""

from __future__ import annotations

from urllib.parse import urlencode

import requests

from tests.emulators.base import Emulator, Request, Response

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "host",
    "content-encoding",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
}


class ReverseProxy(Emulator):
    name = "proxy"

    def __init__(self, upstream: str) -> None:
        super().__init__()
        self.upstream = upstream.rstrip("/")
        self.session = requests.Session()

    def handle(self, req: Request) -> Response:
        query = urlencode(req.query, doseq=True)
        url = f"{self.upstream}{req.path}" + (f"?{query}" if query else "")
        headers = {k: v for k, v in req.headers.items() if k.lower() not in HOP_BY_HOP}
        upstream = self.session.request(
            req.method, url, headers=headers, data=req.body, allow_redirects=False, timeout=60
        )
        out_headers = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}
        content_type = upstream.headers.get("Content-Type", "application/octet-stream")
        out_headers.pop("Content-Type", None)
        return Response(upstream.status_code, upstream.content, out_headers, content_type)
