"""Who may use the web app, and from where.

Open on loopback when no credentials are configured; any other bind address needs a bearer token
or users with hashed passwords. Browsers log in once and carry a session cookie; state-changing
requests from a browser need the CSRF token that only our own pages know.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from newswatch.settings import Settings

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


class WebConfigError(ValueError):
    """The web app cannot start as configured; the message names the setting."""


def hash_password(password: str) -> str:
    """A salted scrypt hash, ``scrypt$n$r$p$salt$hash`` (base64), for a users file line ``name:HASH``."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${b64(salt)}${b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


@dataclass
class Auth:
    """The configured credentials, and the browser sessions handed out after a login."""

    token: str | None = None
    users: dict[str, str] = field(default_factory=dict)  # name -> scrypt hash
    sessions: dict[str, str] = field(default_factory=dict)  # session id -> user name

    @property
    def required(self) -> bool:
        return bool(self.token or self.users)

    def check_token(self, token: str) -> bool:
        return bool(self.token) and hmac.compare_digest(token.encode(), self.token.encode())

    def check_user(self, name: str, password: str) -> bool:
        stored = self.users.get(name)
        return stored is not None and verify_password(password, stored)

    def user_of_header(self, header: str) -> str | None:
        """The user an ``Authorization`` header proves (Bearer token or Basic user:password), else None."""
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and self.check_token(value.strip()):
            return "token"
        if scheme.lower() == "basic":
            try:
                name, _, password = base64.b64decode(value.strip()).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return None
            return name if self.check_user(name, password) else None
        return None

    def open_session(self, user: str) -> str:
        sid = secrets.token_urlsafe(32)
        self.sessions[sid] = user
        return sid


def load_auth(settings: Settings) -> Auth:
    token = settings.web_token.get_secret_value() if settings.web_token else None
    if settings.web_token_file:
        token = _read(settings.web_token_file, "web_token_file").strip()
    if token is not None and len(token) < 16:
        raise WebConfigError("setting web_token (NEWSWATCH_WEB_TOKEN): use at least 16 characters")
    users: dict[str, str] = {}
    if settings.web_users_file:
        for n, line in enumerate(_read(settings.web_users_file, "web_users_file").splitlines(), 1):
            if not line.strip() or line.startswith("#"):
                continue
            name, sep, stored = line.strip().partition(":")
            if not sep or not stored.startswith("scrypt$"):
                raise WebConfigError(f"setting web_users_file: line {n} is not 'name:scrypt$...' (make one with `newswatch web-password`)")
            users[name] = stored
    return Auth(token=token or None, users=users)


def _read(path: Path, setting: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise WebConfigError(f"setting {setting}: cannot read {path} ({exc.strerror})") from None


def is_loopback(host: str) -> bool:
    if host.strip("[]") in LOOPBACK_NAMES or host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, auth: Auth) -> None:
    """Refuse to listen beyond loopback without credentials."""
    if not is_loopback(host) and not auth.required:
        raise WebConfigError(
            f"refusing to serve on {host} without authentication: set NEWSWATCH_WEB_TOKEN (or web_token_file) "
            "or web_users_file, or bind 127.0.0.1"
        )
