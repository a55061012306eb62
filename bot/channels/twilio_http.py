"""The Twilio library's async HTTP client, pointed at another base URL when configured.

TWILIO_API_BASE_URL sends every API request to another scheme and host (an HTTP proxy
that forwards to api.twilio.com, or a test fake); the path stays Twilio's. The
library's own request logging is switched off: it writes URLs and headers at INFO.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from twilio.http.async_http_client import AsyncTwilioHttpClient  # type: ignore[import-untyped]


class TwilioHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """AsyncTwilioHttpClient with an optional base URL and no request logging."""

    def __init__(self, base_url: str | None = None, *, timeout: float = 15.0) -> None:
        super().__init__(timeout=timeout)
        self._base = urlsplit(base_url) if base_url else None

    async def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        """Send the request, to the configured scheme and host if there is one."""
        if kwargs.get("timeout") is None:
            # The library passes None, which aiohttp takes as "wait forever".
            kwargs["timeout"] = self.timeout
        auth = kwargs.pop("auth", None)
        if auth is not None:
            # The library would build aiohttp's BasicAuth, deprecated since aiohttp 3.14.
            credentials = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            kwargs["headers"] = {**(kwargs.get("headers") or {}),
                                 "Authorization": f"Basic {credentials}"}
        if self._base is not None:
            parts = urlsplit(url)
            url = urlunsplit((self._base.scheme, self._base.netloc,
                              self._base.path.rstrip("/") + parts.path, parts.query, ""))
        return await super().request(method, url, *args, **kwargs)

    def log_request(self, kwargs: dict[str, Any]) -> None:
        """Do not log: the library would write URLs and headers at INFO."""

    def log_response(self, status_code: int, response: Any) -> None:
        """Do not log the response either."""
