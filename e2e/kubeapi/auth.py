"""Authentication as kube-apiserver does it with anonymous access disabled:
a bearer token from the set currently valid, or a client certificate that
the TLS layer verified against the cluster CA (subject CN is the user, each
O a group). Anything else is a 401 Status.

Two credentials exist from the start, each with a name the request log
records (as the audit log records a credential id):

- `admin`: user `kubeapi-admin` in group `system:masters` (the harness: no
  authorization applies to it, as on a real cluster);
- `operator`: the operator's service account
  `system:serviceaccount:default:tig-operator`, which RBAC restricts to the
  chart's Role.

More can be minted (`mint`), e.g. one per operator replica, so a test can
tell two processes of the same service account apart. Tokens rotate the way
projected service-account tokens do: a new one is issued and the old one
stops working (at once, or after a grace period)."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass

from aiohttp import web

from .responses import error_response
from .status import unauthorized

ADMIN_PREFIX = "/_emulator/"
# Per-request storage: who the request authenticated as (None: nobody), its log entry.
USER_KEY = web.RequestKey("user_info", object)
LOG_ENTRY_KEY = web.RequestKey("log_entry", object)
AUTHENTICATED = "system:authenticated"
MASTERS = "system:masters"
OPERATOR_NAMESPACE, OPERATOR_ACCOUNT = "default", "tig-operator"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def service_account(namespace: str, name: str) -> "UserInfo":
    """The user a service-account token authenticates as, with its groups."""
    return UserInfo(f"system:serviceaccount:{namespace}:{name}",
                    ("system:serviceaccounts", f"system:serviceaccounts:{namespace}", AUTHENTICATED))


@dataclass(frozen=True)
class UserInfo:
    name: str
    groups: tuple[str, ...] = ()
    credential: str = ""  # which credential authenticated the request (for the request log)

    def with_credential(self, credential: str) -> "UserInfo":
        return UserInfo(self.name, self.groups, credential)


ADMIN = UserInfo("kubeapi-admin", (MASTERS, AUTHENTICATED))
OPERATOR = service_account(OPERATOR_NAMESPACE, OPERATOR_ACCOUNT)


class Authenticator:
    def __init__(self):
        self._users: dict[str, UserInfo] = {}  # token -> user (with its credential name)
        self.current: dict[str, str] = {}  # credential name -> its current token
        self.mint("admin", ADMIN)
        self.mint("operator", OPERATOR)

    def mint(self, credential: str, user: UserInfo) -> str:
        """A new credential (or a fresh token for an existing one, the old one revoked)."""
        old = self.current.get(credential)
        if old is not None:
            self._users.pop(old, None)
        token = new_token()
        self._users[token] = user.with_credential(credential)
        self.current[credential] = token
        return token

    def user_for_token(self, token: str) -> UserInfo | None:
        return self._users.get(token)

    def rotate(self, credential: str, revoke_after: float = 0.0) -> str:
        """Issue a new token for `credential`, revoking the previous one after `revoke_after` seconds."""
        old = self.current[credential]
        token = new_token()
        self._users[token] = self._users[old]
        self.current[credential] = token
        if revoke_after > 0:
            asyncio.get_running_loop().call_later(revoke_after, self._users.pop, old, None)
        else:
            self._users.pop(old, None)
        return token

    def authenticate(self, request: web.Request) -> UserInfo | None:
        # kube-apiserver's union authenticator tries the client certificate
        # before the bearer token; the first that succeeds decides.
        transport = request.transport
        certificate = transport.get_extra_info("peercert") if transport is not None else None
        if certificate:
            # The handshake already verified the chain (CERT_OPTIONAL); a
            # certificate from another CA never gets this far.
            name, groups = None, []
            for rdn in certificate.get("subject", ()):
                for key, value in rdn:
                    if key == "commonName":
                        name = value
                    elif key == "organizationName":
                        groups.append(value)
            if name:
                return UserInfo(name, (*groups, AUTHENTICATED), "client-certificate")
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return self.user_for_token(header[len("Bearer "):].strip())
        return None

    @web.middleware
    async def middleware(self, request: web.Request, handler):
        if request.path.startswith(ADMIN_PREFIX):
            return await handler(request)
        user = request.get(USER_KEY) or self.authenticate(request)
        if user is None:
            return error_response(unauthorized())
        request[USER_KEY] = user
        return await handler(request)
