"""Authentication as kube-apiserver does it with anonymous access disabled:
a bearer token from the set currently valid, or a client certificate that
the TLS layer verified against the cluster CA (the subject CN is the user).
Anything else is a 401 Status. Tokens rotate the way projected
service-account tokens do: a new one is issued and the old one stops
working (at once, or after a grace period)."""

from __future__ import annotations

import asyncio
import secrets

from aiohttp import web

from .responses import error_response
from .status import unauthorized

ADMIN_PREFIX = "/_emulator/"


def new_token() -> str:
    return secrets.token_urlsafe(32)


class Authenticator:
    def __init__(self, initial_token: str):
        self._tokens: dict[str, str] = {initial_token: "system:serviceaccount:default:tig-operator"}
        self.current = initial_token

    def user_for_token(self, token: str) -> str | None:
        return self._tokens.get(token)

    def rotate(self, revoke_after: float = 0.0) -> str:
        """Issue a new token, then revoke the previous one after `revoke_after` seconds."""
        old, self.current = self.current, new_token()
        self._tokens[self.current] = self._tokens[old]
        if revoke_after > 0:
            asyncio.get_running_loop().call_later(revoke_after, self._tokens.pop, old, None)
        else:
            self._tokens.pop(old, None)
        return self.current

    def authenticate(self, request: web.Request) -> str | None:
        # kube-apiserver's union authenticator tries the client certificate
        # before the bearer token; the first that succeeds decides.
        transport = request.transport
        certificate = transport.get_extra_info("peercert") if transport is not None else None
        if certificate:
            # The handshake already verified the chain (CERT_OPTIONAL); a
            # certificate from another CA never gets this far.
            for rdn in certificate.get("subject", ()):
                for key, value in rdn:
                    if key == "commonName":
                        return value
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return self.user_for_token(header[len("Bearer "):].strip())
        return None

    @web.middleware
    async def middleware(self, request: web.Request, handler):
        if request.path.startswith(ADMIN_PREFIX):
            return await handler(request)
        user = self.authenticate(request)
        if user is None:
            return error_response(unauthorized())
        request["user"] = user
        return await handler(request)
