"""Where the console may send a request to an address someone typed: the cloud endpoints of a
project now, webhooks and other channels later. Every such URL goes through this module twice.

- When it is typed (``BaseURLField``): it must be a scheme and a host, with an optional port,
  and nothing else, so nobody chooses a path, query or fragment on someone else's server
  (``http://10.0.0.5/admin/reset#`` would make the console call ``/admin/reset``). It must be
  ``https://`` and its host must resolve to public addresses only.
- When it is called (``OutboundSession``): the host is resolved again, because DNS may answer
  differently by then, and the connection goes to the address that was checked, not to a second
  lookup. Redirects are never followed, and ``read_limited`` caps how much of an answer is read.

Loopback, private, link-local, multicast, reserved and other non-public addresses, and plain
``http://``, are allowed only for the hosts in ``OUTBOUND_ALLOWED_HOSTS`` (demo mode adds the
simulator's host).

requests-hardened (Saleor) does the same pinning, but it has no per-host allowance and its
address filter lets IPv6 site-local and IPv4-compatible addresses through; its adapter is the
model for ``PublicAddressAdapter``.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import requests
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.util.connection import allowed_gai_family

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Not public although Python's is_global says so on some versions, or public only as a way to
# reach an IPv4 address hidden inside (requests-hardened's EXTRA_BLOCKED_NET_RANGES).
_BLOCKED_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in (
        "100.64.0.0/10",  # carrier-grade NAT: internal workloads on some clouds
        "192.0.0.0/24",  # IETF protocol assignments (cpython#113171)
        "192.88.99.0/24",  # 6to4 relay anycast
        "64:ff9b::/96",  # NAT64
        "64:ff9b:1::/48",  # local-use NAT64
        "2002::/16",  # 6to4
        "2001:20::/28",  # ORCHIDv2
        "5f00::/16",  # segment routing
        "3fff::/20",  # documentation
    )
)
_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")


class DestinationRefused(requests.RequestException):
    """The console may not call this address; ``str()`` says why, for the person who typed it."""

    address = ""  # the refused address, for saying it in the typist's language


class AnswerTooLarge(requests.RequestException):
    """The answer is longer than the console reads (``OUTBOUND_MAX_RESPONSE_BYTES``)."""


def allowed_hosts() -> frozenset[str]:
    """The hosts that may be private or plain http: the setting's, and the simulator's in demo mode."""
    hosts = {_plain(host) for host in settings.OUTBOUND_ALLOWED_HOSTS}
    if settings.DEMO_MODE:
        hosts.add(_plain(urlsplit(settings.GEMINIDB_SIMULATOR_URL).hostname or ""))
    return frozenset(hosts - {""})


def is_allowed_host(host: str) -> bool:
    return _plain(host) in allowed_hosts()


def is_public_address(address: IPAddress) -> bool:
    """True for an address anyone on the internet could reach, and nothing of ours."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    not_public = (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or getattr(address, "is_site_local", False)
        or any(address in network for network in _BLOCKED_NETWORKS)
    )
    return address.is_global and not not_public


def public_address(host: str, port: int) -> str:
    """The address to connect to for ``host``: its first DNS answer, when every answer is public.

    Raises ``DestinationRefused`` for a non-public answer and ``socket.gaierror`` when the name
    does not resolve. A name with one private answer among public ones is refused: it is a
    name someone pointed inside.
    """
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        answers = socket.getaddrinfo(host, port, family=allowed_gai_family(), type=socket.SOCK_STREAM)
        addresses = [ipaddress.ip_address(str(answer[4][0]).split("%")[0]) for answer in answers]
    for address in addresses:
        if not is_public_address(address):
            refused = DestinationRefused(
                f"{host} resolves to {address}, which is not a public address: the console calls only public "
                "addresses, unless OUTBOUND_ALLOWED_HOSTS lists the host"
            )
            refused.address = str(address)
            raise refused
    if not addresses:
        raise socket.gaierror(f"no address for {host}")
    return str(addresses[0])


def normalize_base_url(value: str) -> str:
    """``value`` as ``https://host[:port]`` (scheme and host lower case, no default port), or a
    ValidationError that says what to change. No DNS lookup: ``check_base_url`` does that."""
    text = value.strip()
    if any(char.isspace() or not char.isprintable() or char == "\\" for char in text):
        raise ValidationError(_("Enter the address without spaces or backslashes."), code="characters")
    if "://" not in text:
        text = f"https://{text}"
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValidationError(_("Enter an https:// address."), code="scheme")
    if "?" in text or "#" in text or parts.path not in ("", "/"):
        raise ValidationError(
            _(
                "Enter only the scheme and host (and port if needed), e.g. https://iam.eu-de.otc.t-systems.com: "
                "no path, no query (?) and no fragment (#)."
            ),
            code="path",
        )
    if "@" in parts.netloc:
        raise ValidationError(
            _("Enter the address without a user name or password (nothing before an @)."), code="user"
        )
    host = (parts.hostname or "").rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0 or parts.netloc.endswith(":"):
        raise ValidationError(_("The port must be a number from 1 to 65535."), code="port")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if not host.isascii() or not all(_LABEL.fullmatch(label) for label in host.split(".")):
            raise ValidationError(
                _("Enter a valid host name (an internationalised name in its xn-- form)."), code="host"
            ) from None
        netloc = host
    else:
        netloc = f"[{address}]" if address.version == 6 else str(address)
    if scheme == "http" and not is_allowed_host(host):
        raise ValidationError(
            _("Enter an https:// address: the console sends credentials only over HTTPS."), code="http"
        )
    default_port = 443 if scheme == "https" else 80
    return f"{scheme}://{netloc}" + (f":{port}" if port and port != default_port else "")


def check_base_url(value: str) -> str:
    """Normalise ``value`` and check where its host resolves to; return the normalised URL."""
    url = normalize_base_url(value)
    parts = urlsplit(url)
    host = parts.hostname or ""
    if is_allowed_host(host):
        return url
    try:
        public_address(host, parts.port or 443)
    except DestinationRefused as refused:
        message = _(
            "%(host)s resolves to %(address)s, which is not a public address: the console calls only public "
            "addresses, unless OUTBOUND_ALLOWED_HOSTS lists the host."
        )
        raise ValidationError(message % {"host": host, "address": refused.address}, code="address") from None
    except (socket.gaierror, UnicodeError):
        raise ValidationError(
            _("The host %(host)s cannot be found: check the name.") % {"host": host}, code="dns"
        ) from None
    return url


class BaseURLField(forms.CharField):
    """A URL the console will call, as a person types it: checked and normalised by ``check_base_url``."""

    widget = forms.URLInput

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("max_length", 200)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        return check_base_url(value) if value else value


def origin(url: str) -> str:
    """``scheme://host[:port]`` of a stored URL: whatever path, query, fragment or user name it
    carries is dropped. A URL without a scheme or host comes back as it is, to fail when called."""
    try:
        parts = urlsplit(url.strip())
        host, port = parts.hostname, parts.port
    except ValueError:
        return url
    if not parts.scheme or not host:
        return url
    netloc = f"[{host}]" if ":" in host else host
    return f"{parts.scheme.lower()}://{netloc}" + (f":{port}" if port else "")


class PublicAddressAdapter(HTTPAdapter):
    """Connects only where the rules above allow, to the very address it checked.

    The connection pool is keyed by the checked IP; the Host header, TLS SNI and the certificate
    check keep using the host name (as requests-hardened's IPFilterAdapter does).
    """

    def build_connection_pool_key_attributes(self, request: requests.PreparedRequest, verify: Any, cert: Any = None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        scheme, host, port = host_params["scheme"], host_params["host"], host_params["port"]
        if is_allowed_host(host or ""):
            return host_params, pool_kwargs
        if scheme != "https":
            raise DestinationRefused(f"plain {scheme}:// to {host} is refused; the console calls only https:// there")
        try:
            address = public_address(host, port or 443)
        except (socket.gaierror, UnicodeError) as error:
            raise requests.ConnectionError(f"cannot resolve {host}", request=request) from error
        # A copy: the headers may be shared with other requests.
        request.headers = CaseInsensitiveDict(request.headers)
        bracketed = f"[{host}]" if ":" in host else host
        request.headers["Host"] = f"{bracketed}:{port}" if port else bracketed
        # urllib3's TypedDict names fewer keys than its HTTPS pools take (these two among them).
        pool_kwargs["assert_hostname"] = host  # type: ignore[typeddict-unknown-key]
        pool_kwargs["server_hostname"] = host  # type: ignore[typeddict-unknown-key]
        host_params["host"] = f"[{address}]" if ":" in address else address
        return host_params, pool_kwargs


class OutboundSession(requests.Session):
    """A requests session that never follows a redirect and connects only through
    ``PublicAddressAdapter``. A 3xx answer is returned as it is, for the caller to refuse."""

    def __init__(self) -> None:
        super().__init__()
        adapter = PublicAddressAdapter()
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        kwargs["allow_redirects"] = False
        return super().send(request, **kwargs)

    def resolve_redirects(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        # Not even prepared: requests reads a redirect's whole body to prepare the next request
        # (Response.next), past any size limit.
        return iter(())


def read_limited(response: requests.Response, limit: int | None = None) -> bytes:
    """Read a streamed answer into ``response.content``, at most ``limit`` bytes
    (``OUTBOUND_MAX_RESPONSE_BYTES``); a longer one is dropped with ``AnswerTooLarge``."""
    limit = settings.OUTBOUND_MAX_RESPONSE_BYTES if limit is None else limit
    too_large = AnswerTooLarge(f"the answer is larger than {limit} bytes, more than the console reads")
    declared = response.headers.get("Content-Length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:  # "²" is a digit to isdigit
        response.close()
        raise too_large
    chunks, size = [], 0
    for chunk in response.iter_content(chunk_size=64 * 1024):
        size += len(chunk)
        if size > limit:
            response.close()
            raise too_large
        chunks.append(chunk)
    response._content = b"".join(chunks)
    return response._content


def _plain(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()
