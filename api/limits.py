"""A limit on request bodies, in the app so that it holds without a proxy in front.

A declared ``Content-Length`` over the limit is refused before any byte is read; a body
without one (chunked) is counted as it streams in and refused the moment it passes the
limit, so that no request can make the API buffer more than ``max_bytes``.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem_response

__all__ = ["BodyLimitMiddleware"]


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _detail(self) -> str:
        return f"the request body is larger than the limit of {self.max_bytes} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            status, detail = (413, self._detail()) if declared.isdigit() else (400, "invalid Content-Length")
            await problem_response(status, detail, instance=scope["path"],
                                   headers={"Connection": "close"})(scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI passes an HTTPException from reading the body on to the problem handler.
                    raise HTTPException(413, self._detail(), headers={"Connection": "close"})
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except HTTPException as exc:
            if started or exc.status_code != 413:
                raise
            await problem_response(413, self._detail(), instance=scope["path"],
                                   headers={"Connection": "close"})(scope, receive, send)
