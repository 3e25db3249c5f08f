"""The ceilings: bare apps answering every request with fixed bytes.

The bench serves them on the same server (granian, same settings) as ns-root, with the
body and headers of a real namespace GET, so the ratio shows what ns-root's own code
costs: ``app`` on granian's ASGI interface, ``rsgi_app`` on its RSGI interface (the one
``nsroot serve`` uses).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

BODY = Path(os.environ.get("NSROOT_BARE_BODY", "/dev/null")).read_bytes()
HEADERS = [(b"content-type", b"application/json"), (b"etag", b'"42"'), (b"nsroot-revision", b"10001")]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


RSGI_HEADERS = [(k.decode(), v.decode()) for k, v in HEADERS]


class _RSGIApp:
    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        protocol.response_bytes(200, RSGI_HEADERS, BODY)


rsgi_app = _RSGIApp()
