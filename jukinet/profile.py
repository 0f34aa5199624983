"""Profiles of `jukinet up`: who may reach the Prefect server, and from where.

    access = load_profile("production", os.environ)  # ProfileError (Japanese) when unusable
    access.server_env()   # {"PREFECT_SERVER_API_AUTH_STRING": …, "PREFECT_SERVER_API_CSRF_…": "true"}
    access.client_env()   # {"PREFECT_API_AUTH_STRING": …}: worker, prefect deploy, jukinet drill
    access.api_url(4200)  # "http://127.0.0.1:4200/api": where processes on this machine connect

default     for development: 127.0.0.1, no password, no CSRF check; reads none of the below
production  JUKINET_AUTH_STRING  user:password for Prefect's basic auth; required. Never printed,
                                 never on a command line, kept out of repr()
            JUKINET_BIND_HOST    the server's listen address (127.0.0.1)
            JUKINET_PUBLIC_URL   the address staff's browsers open (http://<bind host>:<port>);
                                 required when the server listens on every address (0.0.0.0, ::)
"""

from __future__ import annotations

import base64
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

DEFAULT = "default"
PRODUCTION = "production"
PROFILES = (DEFAULT, PRODUCTION)
LOOPBACK = "127.0.0.1"
AUTH_VARIABLE = "JUKINET_AUTH_STRING"
BIND_VARIABLE = "JUKINET_BIND_HOST"
PUBLIC_VARIABLE = "JUKINET_PUBLIC_URL"
# never handed on to a child that does not need it
SECRET_VARIABLES = (AUTH_VARIABLE, "PREFECT_API_AUTH_STRING", "PREFECT_SERVER_API_AUTH_STRING")
MIN_PASSWORD_LENGTH = 8
WILDCARDS = {"0.0.0.0": LOOPBACK, "::": "::1"}  # listening on every address → connect here
HOSTNAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
# the Prefect UI's login form base64-encodes the string with btoa(), which takes Latin-1 only
VISIBLE_ASCII = re.compile(r"[!-~]+")


class ProfileError(Exception):
    """The profile cannot be used; the message is for the user (Japanese) and never holds a secret."""


@dataclass(frozen=True)
class Access:
    """How the stack's server is reached: listen address, browser address, auth, CSRF."""

    profile: str = DEFAULT
    bind_host: str = LOOPBACK
    auth_string: str | None = field(default=None, repr=False)
    public_url: str | None = None  # None: http://<bind host>:<port>

    @property
    def production(self) -> bool:
        return self.profile == PRODUCTION

    @property
    def connect_host(self) -> str:
        return WILDCARDS.get(self.bind_host, self.bind_host)

    def api_url(self, port: int) -> str:
        return f"http://{_url_host(self.connect_host)}:{port}/api"

    def ui_url(self, port: int) -> str:
        """The UI's address in a browser; its /api is where the UI calls the server."""
        if self.public_url:
            return self.public_url
        return f"http://{_url_host(self.bind_host)}:{port}"

    def server_env(self) -> dict[str, str]:
        """Settings only `prefect server start` gets."""
        if not self.production:
            return {}
        assert self.auth_string is not None
        return {
            "PREFECT_SERVER_API_AUTH_STRING": self.auth_string,
            "PREFECT_SERVER_API_CSRF_PROTECTION_ENABLED": "true",
        }

    def client_env(self) -> dict[str, str]:
        """Settings the processes that call the API get (Prefect's client sends them)."""
        if not self.production:
            return {}
        assert self.auth_string is not None
        return {"PREFECT_API_AUTH_STRING": self.auth_string}

    def auth_headers(self) -> dict[str, str]:
        """The header Prefect's client sends for the auth string, for plain httpx calls."""
        if not self.auth_string:
            return {}
        return {"Authorization": f"Basic {basic_token(self.auth_string)}"}


DEFAULT_ACCESS = Access()


def basic_token(auth_string: str) -> str:
    """`user:password` as Prefect encodes it (UTF-8, base64)."""
    return base64.b64encode(auth_string.encode("utf-8")).decode("ascii")


def load_profile(name: str, environ: Mapping[str, str]) -> Access:
    """The profile `name` configured from `environ`; ProfileError lists every problem."""
    if name == DEFAULT:
        return DEFAULT_ACCESS
    if name != PRODUCTION:
        raise ProfileError(
            f"起動の設定（プロファイル）「{name}」はありません。指定できるもの: {'、'.join(PROFILES)}"
        )
    problems = _auth_problems(environ.get(AUTH_VARIABLE, ""))
    bind_host = environ.get(BIND_VARIABLE, "").strip() or LOOPBACK
    if not _is_host(bind_host):
        problems.append(
            f"環境変数 {BIND_VARIABLE} は IP アドレスかホスト名で指定してください: {bind_host!r}"
        )
    public_url = environ.get(PUBLIC_VARIABLE, "").strip().rstrip("/") or None
    if public_url is not None:
        problems.extend(_url_problems(public_url))
    elif bind_host in WILDCARDS:
        problems.append(
            f"{BIND_VARIABLE}={bind_host} ではすべてのアドレスで待ち受けます。職員の端末のブラウザーが"
            f"開くアドレスを環境変数 {PUBLIC_VARIABLE} に指定してください"
            "（例 http://juki-server.town.example:4200）"
        )
    if problems:
        raise ProfileError(
            "本番用の設定（production）で起動できません:\n"
            + "\n".join(f"- {p}" for p in problems)
            + "\n何も起動していません。手順は docs/production.md を参照してください。"
        )
    return Access(PRODUCTION, bind_host, environ[AUTH_VARIABLE], public_url)


def _auth_problems(auth_string: str) -> list[str]:
    """What is wrong with the auth string, described without quoting any of it."""
    form = "「ユーザー名:パスワード」の形"
    if not auth_string:
        return [
            f"環境変数 {AUTH_VARIABLE} が設定されていません。Prefect サーバーのユーザー名と"
            f"パスワードを{form}で設定してください"
        ]
    user, colon, password = auth_string.partition(":")
    if not colon:
        return [f"環境変数 {AUTH_VARIABLE} は{form}（コロン「:」で区切る）で設定してください"]
    problems = []
    if not user:
        problems.append(f"環境変数 {AUTH_VARIABLE} のユーザー名（「:」の前）が空です")
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(
            f"環境変数 {AUTH_VARIABLE} のパスワード（最初の「:」の後）は"
            f" {MIN_PASSWORD_LENGTH} 文字以上にしてください"
        )
    if not VISIBLE_ASCII.fullmatch(auth_string):
        problems.append(
            f"環境変数 {AUTH_VARIABLE} は半角の英数字と記号だけで設定してください"
            "（空白・全角文字は Prefect の画面のログインで使えません）"
        )
    return problems


def _url_problems(url: str) -> list[str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [
            f"環境変数 {PUBLIC_VARIABLE} は http:// または https:// で始まるアドレスにしてください"
        ]
    if parts.username or parts.password:
        return [f"環境変数 {PUBLIC_VARIABLE} にユーザー名やパスワードを含めないでください"]
    if parts.path or parts.query or parts.fragment:
        return [
            f"環境変数 {PUBLIC_VARIABLE} はホスト名とポートまでにしてください"
            f"（例 http://juki-server.town.example:4200）: {url}"
        ]
    return []


def _is_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return HOSTNAME.fullmatch(host) is not None
    return True


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
