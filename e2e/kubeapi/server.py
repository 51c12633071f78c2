"""Assembles the emulator: PKI, TLS listener, middlewares (request log,
faults, authentication, RBAC authorization, Status errors), the Kubernetes
API, the admin API and the control loop; runs it in the current event loop
or in a background thread."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
import socket
import ssl
import tempfile
import threading

from aiohttp import web

from .admin import AdminApi
from .auth import OPERATOR, Authenticator, UserInfo
from .certs import ClusterPKI
from .config import EmulatorConfig
from .controllers.loop import ControlLoop
from .faults import FaultInjector, FaultQueue
from .handlers import ApiHandlers
from .rbac import Authorizer, Policy
from .registry import Registry
from .requestlog import RequestLog
from .responses import error_response
from .rolechart import render_chart
from .statedir import StateDir
from .status import ApiError, bad_request, method_not_allowed, resource_not_found
from .store import Store
from .watch import WatchHub


def _url_host(host: str) -> str:
    """The host to put in URLs: a wildcard bind is reached over loopback."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    try:
        return f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        return host


@web.middleware
async def status_errors(request: web.Request, handler):
    """Every failure leaves as a Status object, including routing misses."""
    try:
        return await handler(request)
    except ApiError as error:
        return error_response(error)
    except web.HTTPNotFound:
        return error_response(resource_not_found())
    except web.HTTPMethodNotAllowed:
        return error_response(method_not_allowed(request.method, request.path))


async def _health(request: web.Request) -> web.Response:
    return web.Response(text="ok", content_type="text/plain")


class Emulator:
    def __init__(self, state_dir: str | os.PathLike, host: str = "127.0.0.1", port: int = 0,
                 config: EmulatorConfig | None = None, extra_sans: tuple[str, ...] = (),
                 history_limit: int = 10000, rbac_objects: list[dict] | None = None):
        self.state = StateDir(state_dir)
        self.host = host
        self.requested_port = port
        self.config = config or EmulatorConfig()
        self.pki = ClusterPKI(host, extra_sans)
        self.auth = Authenticator()
        # The policy RBAC enforces: the chart's Role for the operator unless given.
        self.policy = Policy(rbac_objects if rbac_objects is not None else render_chart())
        self.store = Store(history_limit)
        self.registry = Registry(self.store)
        self.hub = WatchHub(self.store, self.config)
        self.faults = FaultQueue()
        self.request_log = RequestLog(self.auth)
        self.control: ControlLoop | None = None
        self.port = 0
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._control_task: asyncio.Task | None = None

    def _ssl_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        with tempfile.TemporaryDirectory() as scratch:
            cert, key = os.path.join(scratch, "server.crt"), os.path.join(scratch, "server.key")
            with open(cert, "wb") as handle:
                handle.write(self.pki.server.cert_pem)
            with open(key, "wb") as handle:
                handle.write(self.pki.server.key_pem)
            context.load_cert_chain(cert, key)
        # Client certificates are optional, but one that is presented must chain to the CA.
        context.verify_mode = ssl.CERT_OPTIONAL
        context.load_verify_locations(cadata=self.pki.ca_pem.decode())
        context.set_alpn_protocols(["http/1.1"])  # no HTTP/2: Go and curl settle on HTTP/1.1
        return context

    def _app(self) -> web.Application:
        middlewares = [self.request_log.middleware, FaultInjector(self.faults).middleware, self.auth.middleware,
                       Authorizer(self.policy, self.config).middleware, status_errors]
        app = web.Application(middlewares=middlewares, client_max_size=16 * 1024 * 1024)
        app.on_response_prepare.append(RequestLog.record_status)
        app.add_routes(AdminApi(self).routes())
        app.add_routes([web.get(path, _health) for path in ("/healthz", "/livez", "/readyz")])
        app.add_routes(ApiHandlers(self.registry, self.hub, self.config).routes())
        return app

    async def start(self) -> str:
        """Listen, write the state directory, start the controllers; answers the URL."""
        self.registry.reset()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.requested_port))
        self.port = listener.getsockname()[1]
        self.url = f"https://{_url_host(self.host)}:{self.port}"
        self._runner = web.AppRunner(self._app(), handler_cancellation=True, access_log=None,
                                     shutdown_timeout=1.0)
        await self._runner.setup()
        await web.SockSite(self._runner, listener, ssl_context=self._ssl_context()).start()
        self.state.write_credentials(self.pki, self.url, self.auth.current)
        self.state.write_port(self.port)
        self.control = ControlLoop(self.registry, self.config)
        self._control_task = asyncio.get_running_loop().create_task(self.control.run())
        return self.url

    async def stop(self) -> None:
        if self._control_task is not None:
            self._control_task.cancel()
        self.hub.drop_all()
        if self._runner is not None:
            await self._runner.cleanup()

    def reset(self) -> None:
        """Back to a fresh cluster: no objects but the default namespaces, no
        faults, an empty request log, no open watches. resourceVersions keep
        rising, so a client still holding an old one gets 410 Expired."""
        self.hub.drop_all()
        self.faults.clear()
        self.request_log.clear()
        self.registry.reset()
        if self.control is not None:
            self.control.replicasets.expectations.clear()

    def rotate_tokens(self, revoke_old_after: float = 0.0, credential: str | None = None) -> dict[str, str]:
        """New tokens for one credential, or for the two default ones (admin
        and operator), files rewritten; answers credential -> new token."""
        names = [credential] if credential else ["admin", "operator"]
        if any(name not in self.auth.current for name in names):
            raise bad_request(f"no credential named {credential!r}")
        tokens = {}
        for name in names:
            tokens[name] = self.auth.rotate(name, revoke_old_after)
            self.state.write_token(self.pki, self.url, name, tokens[name])
        return tokens

    def mint_token(self, name: str, user: str | None = None, groups: list[str] | None = None) -> dict:
        """A credential of its own (by default for the operator's service
        account): what a second operator replica gets, so that the request
        log tells the two apart."""
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,40}", name) or name in ("admin", "operator"):
            raise bad_request(f"credential name {name!r}: lower-case letters, digits and '-', not admin/operator")
        who = OPERATOR if user is None else UserInfo(user, (*(groups or []), "system:authenticated"))
        token = self.auth.mint(name, who)
        token_file, kubeconfig = self.state.write_token(self.pki, self.url, name, token)
        return {"credential": name, "user": who.name, "token": token, "tokenFile": str(token_file),
                "kubeconfig": str(kubeconfig)}


class EmulatorThread:
    """An Emulator on its own event loop in a daemon thread (for pytest)."""

    def __init__(self, state_dir: str | os.PathLike, **options):
        self.emulator = Emulator(state_dir, **options)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="kubeapi-emulator", daemon=True)

    def start(self) -> str:
        self._thread.start()
        return asyncio.run_coroutine_threadsafe(self.emulator.start(), self._loop).result(timeout=30)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.emulator.stop(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

