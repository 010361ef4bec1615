"""The HTTP API that InfluxDB 1.x, 2.x (v1 compatibility) and 3.x all serve.

``/write`` takes line protocol, ``/query`` InfluxQL, ``/ping`` answers 204.
Authentication: username and password (1.x, sent as HTTP Basic authentication,
which 1.x and the v1 API of 2.x accept) or a token (2.x and 3.x,
``Authorization: Token ...``). Credentials travel in a header, never in the
URL: httpx logs every URL it requests, and proxies keep them in access logs.

Retry policy: connection errors, timeouts, HTTP 5xx and 429 are retried with
exponential backoff (with jitter) until ``retry_total_s`` has passed, then
:class:`StoreUnavailable` is raised. 401, 403 and 404 (credentials, missing
database) raise :class:`StoreUnavailable` at once: they are setup errors, and
the data must be held, not dropped. Any other 4xx is final for that data:
:class:`StoreRejected` with InfluxDB's error text as the reason.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import logging
import random
import time
from collections.abc import Callable
from typing import Any

import httpx
import orjson

from nzd.store.base import StoreRejected, StoreUnavailable

__all__ = ["InfluxHttp"]

log = logging.getLogger(__name__)

_CONFIGURATION_ERRORS = frozenset({401, 403, 404})


class InfluxHttp:
    def __init__(
        self,
        *,
        url: str,
        database: str,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        timeout_s: float = 10.0,
        retry_total_s: float = 30.0,
        backoff_initial_s: float = 0.2,
        backoff_max_s: float = 5.0,
        gzip_level: int | None = 1,
        on_retry: Callable[[str], None] | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.database = database
        self._headers: dict[str, str] = {}
        if token:
            self._headers["Authorization"] = f"Token {token}"
        elif username:
            basic = base64.b64encode(f"{username}:{password or ''}".encode()).decode("ascii")
            self._headers["Authorization"] = f"Basic {basic}"
        self.timeout_s = timeout_s
        self.retry_total_s = retry_total_s
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.gzip_level = gzip_level
        self.on_retry = on_retry
        self.retries = 0
        self._client: httpx.AsyncClient | None = None

    async def open(self) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(
                base_url=self.url,
                headers=self._headers,
                timeout=httpx.Timeout(self.timeout_s),
                limits=httpx.Limits(max_connections=8, max_keepalive_connections=4),
            )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            raise RuntimeError("the InfluxDB store is not open; call `await store.open()` first")
        return self._client

    async def ping(self) -> bool:
        try:
            r = await self.client.get("/ping", timeout=min(self.timeout_s, 5.0))
        except httpx.HTTPError:
            return False
        return r.status_code == 204

    async def write(self, body: bytes, *, precision: str = "ms", retention_policy: str | None = None) -> None:
        params = {"db": self.database, "precision": precision}
        if retention_policy:
            params["rp"] = retention_policy
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        if self.gzip_level is not None:
            body = gzip.compress(body, compresslevel=self.gzip_level)
            headers["Content-Encoding"] = "gzip"
        await self._request("POST", "/write", params=params, content=body, headers=headers)

    async def query(self, q: str, *, epoch: str = "ms", database: bool = True,
                    retry: bool = True) -> list[dict[str, Any]]:
        """Run InfluxQL; returns the ``results`` list, raising on any statement error."""
        params = {"q": q, "epoch": epoch}
        if database:
            params["db"] = self.database
        r = await self._request("POST", "/query", params=params, retry=retry)
        data = orjson.loads(r.content)
        if "error" in data:
            raise StoreRejected(f"InfluxDB query failed: {data['error']} (query: {q[:200]})")
        results: list[dict[str, Any]] = data.get("results", [])
        for res in results:
            if "error" in res:
                raise StoreRejected(f"InfluxDB query failed: {res['error']} (query: {q[:200]})")
        return results

    async def _request(self, method: str, path: str, *, retry: bool = True,
                       **kwargs: Any) -> httpx.Response:
        deadline = time.monotonic() + self.retry_total_s
        delay_s = self.backoff_initial_s
        while True:
            try:
                r = await self.client.request(method, path, **kwargs)
            except httpx.TimeoutException as exc:
                reason = f"timeout after {self.timeout_s} s ({type(exc).__name__})"
            except httpx.TransportError as exc:
                reason = f"cannot reach InfluxDB at {self.url}: {exc!r}"
            else:
                if r.status_code < 300:
                    return r
                text = r.text.strip()[:500]
                if r.status_code == 429 or r.status_code >= 500:
                    reason = f"HTTP {r.status_code}: {text}"
                elif r.status_code in _CONFIGURATION_ERRORS:
                    # Wrong credentials or a missing database: the data is fine, the setup is not.
                    # Raised at once, and as "unavailable" so that callers hold the data, never drop it.
                    raise StoreUnavailable(f"InfluxDB {path}: HTTP {r.status_code} (check the URL, "
                                           f"database and credentials): {text}")
                else:
                    raise StoreRejected(f"InfluxDB refused {path} with HTTP {r.status_code}: {text}")
            remaining_s = deadline - time.monotonic()
            if not retry or remaining_s <= 0:
                raise StoreUnavailable(f"InfluxDB {path}: {reason}")
            self.retries += 1
            if self.on_retry is not None:
                self.on_retry(reason)
            log.warning("InfluxDB %s failed, retrying in %.1f s: %s", path, delay_s, reason)
            await asyncio.sleep(min(delay_s * (0.5 + random.random()), remaining_s))
            delay_s = min(delay_s * 2, self.backoff_max_s)
