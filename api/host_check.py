"""Who a request may come through: a Host the service is named by (HOMEWARD_ALLOWED_HOSTS;
with keys off, this machine's names), and, with keys off, no proxy at all."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import PROBES, problem
from api.schemas import ProblemCode
from homeward.settings import Settings

# What a reverse proxy, load balancer or CDN adds to say whom, or what, it passes a request on
# for (nginx's `proxy_set_header`, RFC 7239's Forwarded, RFC 9110's Via, Apache's mod_proxy,
# IIS's ARR, Cloudflare, Akamai, Fastly): a request carrying one did not start on this machine.
# A proxy that adds none cannot be told from a local client: keys must be on behind any proxy.
_PROXY_HEADER_NAMES = (
    "X-Forwarded-For", "Forwarded", "X-Real-IP", "Via", "X-Forwarded-Host",
    "X-Forwarded-Proto", "X-Forwarded-Port", "X-Forwarded-Server", "X-Original-Forwarded-For",
    "Client-IP", "True-Client-IP", "X-Client-IP", "X-Cluster-Client-IP", "CF-Connecting-IP",
    "Fastly-Client-IP",
)  # fmt: skip
PROXY_HEADERS = {name.lower().encode("latin-1"): name for name in _PROXY_HEADER_NAMES}


class HostCheck:
    """421 Misdirected Request for a Host not allowed (`Settings.hosts_allowed`); with keys
    off, 403 for a request a proxy passed on. Keys off makes every request admin, which is
    safe only for this machine's own clients: a proxy on loopback (the README's nginx) would
    pass on everyone's, and a web page on a name its owner points at 127.0.0.1 (DNS
    rebinding) would be a browser's here, sending its own name as Host."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.hosts = settings.hosts_allowed
        self.auth_off = settings.auth == "off"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PROBES:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])  # the first of each name is enough to refuse on
        sent = headers.get(b"host", b"").decode("latin-1")
        if self.hosts is not None and not _allowed(host_name(sent), self.hosts):
            found = f"Host {sent[:100]!r}" if sent else "no Host header"
            detail = (
                f"expected a request to {_either(self.hosts)} (any port), found {found}; "
                "HOMEWARD_ALLOWED_HOSTS lists the names this service answers to"
            )
            await _refuse(scope, receive, send, 421, detail, "host_not_allowed")
            return
        proxied = next((name for name in PROXY_HEADERS if name in headers), None)
        if self.auth_off and proxied is not None:
            detail = (
                "with HOMEWARD_AUTH=off every request acts as admin, so only this machine's "
                f"own clients are answered; this one came through a proxy (it carries "
                f"{PROXY_HEADERS[proxied]}): serve with HOMEWARD_AUTH=keys behind a proxy"
            )
            await _refuse(scope, receive, send, 403, detail, "proxied_with_auth_off")
            return
        await self.app(scope, receive, send)


async def _refuse(
    scope: Scope, receive: Receive, send: Send, status: int, detail: str, code: ProblemCode
) -> None:
    scope.setdefault("state", {})["refusal"] = code  # the access log's reason=
    title = "Misdirected request" if status == 421 else "Forbidden"
    response = problem(status, title, detail, code=code)
    await response(scope, receive, send)


def host_name(host: str) -> str:
    """The name of a Host header's value, without its port, lower case (`[::1]:8000`: ::1)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:  # name:port; an IPv6 address without brackets has more
        host = host.split(":")[0]
    return host.removesuffix(".")


def _allowed(name: str, hosts: tuple[str, ...]) -> bool:
    return bool(name) and any(
        name == host or (host.startswith("*.") and name.endswith(host[1:])) for host in hosts
    )


def _either(hosts: tuple[str, ...]) -> str:
    names = [f"[{h}]" if ":" in h else h for h in hosts]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
