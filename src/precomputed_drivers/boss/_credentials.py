"""Where a BOSS token (and the server it is for) comes from, first found wins.

1. ``secrets=`` given to ``CloudVolume`` (a dict, or a JSON file's path);
2. ``~/.cloudvolume/secrets/boss-secret.json`` (cloud-volume's file; ``CLOUD_VOLUME_DIR``
   moves it), holding ``token`` and optionally ``host`` (which may carry a port) and
   ``protocol``;
3. intern's own configuration: the ``INTERN_TOKEN`` environment variable (with
   ``INTERN_HOST`` and ``INTERN_PROTOCOL``), else ``~/.intern/intern.cfg``.

``endpoint_url=`` (``http://127.0.0.1:8080``) names the server whatever the token's
source says. The token is handed to intern only; it is never in a message or a repr.
"""

from __future__ import annotations

import configparser
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from precomputed_core.exceptions import CredentialsError

from .._secrets import find_secret, looked_for

__all__ = ["DEFAULT_HOST", "BossConfig", "boss_config"]

_log = logging.getLogger(__name__)

#: The public BossDB deployment, used when the credentials name no server.
DEFAULT_HOST = "api.bossdb.io"
DEFAULT_PROTOCOL = "https"

INTERN_FILE = Path("~/.intern/intern.cfg")


@dataclass(frozen=True)
class BossConfig:
    """A server and the token for it; ``source`` says where they were found, for messages."""

    protocol: str
    host: str
    source: str
    token: str = field(repr=False, compare=False)

    @property
    def url(self) -> str:
        return f"{self.protocol}://{self.host}"

    def intern_config(self) -> dict[str, str]:
        """What intern's ``BossRemote`` takes (so that it never reads a file of its own)."""
        return {"protocol": self.protocol, "host": self.host, "token": self.token}


def _from_values(values: dict[str, Any], source: str) -> BossConfig:
    token = values.get("token")
    if not isinstance(token, str) or not token.strip():
        raise CredentialsError(
            f"{source} has no 'token': add the API token your BOSS account page shows "
            f"(looked for a token in {_looked_for()})"
        )
    protocol = str(values.get("protocol") or DEFAULT_PROTOCOL)
    host = str(values.get("host") or DEFAULT_HOST).strip().rstrip("/")
    if "://" in host:  # a URL where a host was expected: take its scheme as the protocol
        parts = urlsplit(host)
        protocol, host = parts.scheme, parts.netloc
    if protocol not in ("http", "https"):
        raise CredentialsError(f"{source} gives protocol {protocol!r}; use 'https' (or 'http')")
    if not host or "/" in host:
        raise CredentialsError(f"{source} gives host {values.get('host')!r}; write it as name[:port]")
    return BossConfig(protocol, host, source, token.strip())


def _intern_file() -> dict[str, Any] | None:
    path = INTERN_FILE.expanduser()
    if not path.is_file():
        return None
    parser = configparser.ConfigParser()
    try:
        parser.read(path)
    except configparser.Error as err:
        raise CredentialsError(f"{path} is not a valid INI file ({type(err).__name__})") from None
    for section in ("Default", "Project Service", "Volume Service"):
        if parser.has_section(section) and parser.has_option(section, "token"):
            return dict(parser.items(section))
    return {}


def _looked_for() -> str:
    return (
        f"secrets=, {looked_for('boss', None)}, the INTERN_TOKEN (INTERN_HOST, INTERN_PROTOCOL) "
        f"environment variables and {INTERN_FILE}"
    )


def boss_config(given: Any = None, endpoint_url: str | None = None) -> BossConfig:
    """The server and token to use (see the module's docstring for the order)."""
    secret = find_secret("boss", None, given)
    if secret is not None:
        config = _from_values(secret.values, secret.source)
    elif os.environ.get("INTERN_TOKEN"):
        environment = {"token": os.environ["INTERN_TOKEN"], "host": os.environ.get("INTERN_HOST"),
                       "protocol": os.environ.get("INTERN_PROTOCOL")}  # fmt: skip
        config = _from_values(environment, "the INTERN_TOKEN environment variable")
    elif (values := _intern_file()) is not None:
        config = _from_values(values, str(INTERN_FILE.expanduser()))
    else:
        raise CredentialsError(
            f'no BOSS token found: looked for {_looked_for()}. Put {{"token": "..."}} (and '
            f'"host" for a server other than {DEFAULT_HOST}) in {looked_for("boss", None)}'
        )
    if endpoint_url:
        parts = urlsplit(endpoint_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"endpoint_url must look like https://host[:port], got {endpoint_url!r}")
        config = BossConfig(parts.scheme, parts.netloc, config.source, config.token)
    _log.info("the BOSS at %s: token from %s", config.url, config.source)
    return config
