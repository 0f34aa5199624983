"""The few Prefect REST calls a clerk's browser makes (httpx), authenticated as the browser is.

    api = Api("http://127.0.0.1:4200/api")  # auth string: PREFECT_API_AUTH_STRING, read by Prefect
    api.tagged("令和8年度-001")              # a change (POST) carries a CSRF token when required

With basic auth on the server (`make up PROFILE=production`) every call carries
`Authorization: Basic base64(user:password)`, as Prefect's client sends it; with CSRF protection
on, a POST first fetches a token from `GET /csrf-token?client=…` and sends it in the
`Prefect-Csrf-Token` / `Prefect-Csrf-Client` headers (the same protocol as Prefect's client).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from jukinet.drill.scenario import DrillFailed
from jukinet.profile import basic_token


def prefect_auth_string() -> str | None:
    """PREFECT_API_AUTH_STRING as Prefect's client reads it (environment, .env, profile)."""
    from prefect.settings import get_current_settings

    secret = get_current_settings().api.auth_string
    return secret.get_secret_value() if secret is not None else None


def basic_auth(auth_string: str) -> dict[str, str]:
    """The header Prefect's client sends for `user:password`."""
    return {"Authorization": f"Basic {basic_token(auth_string)}"}


@dataclass(frozen=True)
class Pause:
    key: str
    clause: str  # slug
    step: str  # slug
    attempt: int

    @classmethod
    def parse(cls, key: str) -> Pause:
        parts = key.split("--")
        attempt = int(parts[-1]) if len(parts) >= 3 and parts[-1].isdigit() else 1
        return cls(key, parts[0], "--".join(parts[1:-1]), attempt)


@dataclass(frozen=True)
class Run:
    id: str
    name: str
    tags: tuple[str, ...]
    state: str  # state type: PAUSED, COMPLETED, …
    state_name: str
    message: str
    pause: Pause | None
    schema_key: str | None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Run:
        state = data.get("state") or {}
        details = state.get("state_details") or {}
        key = details.get("pause_key")
        keyset = details.get("run_input_keyset") or {}
        return cls(
            id=str(data["id"]),
            name=str(data.get("name") or ""),
            tags=tuple(data.get("tags") or ()),
            state=str(state.get("type") or ""),
            state_name=str(state.get("name") or ""),
            message=str(state.get("message") or ""),
            pause=Pause.parse(key) if state.get("type") == "PAUSED" and key else None,
            schema_key=keyset.get("schema"),
        )


class Api:
    """`GET /deployments/name/…`, `POST …/create_flow_run`, `/flow_runs/…` as the UI uses them.

    A busy server (503 "database is locked" on SQLite) or a restarting one is retried, as
    Prefect's own client does; starting a run carries an idempotency key, and a resume is only
    repeated while the run still waits at the same pause key. `auth_string` None: Prefect's
    client setting (PREFECT_API_AUTH_STRING); "": none.
    """

    RETRY_STATUS = frozenset({429, 502, 503, 504})
    RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 4.0, 8.0, 8.0, 15.0, 15.0, 30.0, 30.0)  # about 2 minutes

    def __init__(self, base_url: str, auth_string: str | None = None) -> None:
        if auth_string is None:
            auth_string = prefect_auth_string()
        headers = basic_auth(auth_string) if auth_string else {}
        self.client = httpx.Client(base_url=base_url.rstrip("/"), timeout=30.0, headers=headers)
        self.csrf_client = str(uuid.uuid4())
        self.csrf: dict[str, str] | None = None  # the token's headers; {} once the server has none

    def _request(self, method: str, url: str, json: Any) -> httpx.Response:
        """One attempt; a change carries a CSRF token, renewed once if the server refuses it."""
        if method == "GET":
            return self.client.request(method, url, json=json)
        for renew in (False, True):
            failed = self._fetch_csrf(renew)
            if failed is not None:
                return failed
            response = self.client.request(method, url, json=json, headers=self.csrf)
            if not (response.status_code == 403 and "CSRF token" in response.text):
                break
        return response

    def _fetch_csrf(self, renew: bool) -> httpx.Response | None:
        """Get a token unless one is held; the token endpoint's response if that failed."""
        if self.csrf is not None and not renew:
            return None
        response = self.client.get("/csrf-token", params={"client": self.csrf_client})
        if response.status_code == 200:
            token = str(response.json()["token"])
            self.csrf = {"Prefect-Csrf-Token": token, "Prefect-Csrf-Client": self.csrf_client}
            return None
        if response.status_code == 404 or (
            response.status_code == 422 and "CSRF protection is disabled" in response.text
        ):
            self.csrf = {}  # an older server, or CSRF protection off: send no token
            return None
        return response

    def _send(
        self,
        method: str,
        url: str,
        what: str,
        json: Any = None,
        again: Callable[[], bool] | None = None,
    ) -> httpx.Response:
        """The response, after retrying transient failures while `again()` allows it."""
        for delay in (*self.RETRY_DELAYS, None):
            try:
                response = self._request(method, url, json)
                if response.status_code not in self.RETRY_STATUS:
                    return response
                problem = f"HTTP {response.status_code}: {response.text[:300]}"
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            if delay is None or (again is not None and not again()):
                break
            time.sleep(delay)
        raise DrillFailed(f"{what}に失敗しました（{problem}）")

    def _json(self, response: httpx.Response, what: str) -> Any:
        if response.status_code == 401:
            raise DrillFailed(
                f"{what}に失敗しました（HTTP 401 認証エラー）。Prefect サーバーが認証を求めています。"
                "環境変数 PREFECT_API_AUTH_STRING にサーバーと同じ「ユーザー名:パスワード」を"
                "設定してください（docs/production.md）"
            )
        if response.status_code >= 400:
            raise DrillFailed(
                f"{what}に失敗しました（HTTP {response.status_code}）: {response.text}"
            )
        return response.json()

    def deployment(self, flow: str, name: str) -> dict[str, Any]:
        what = "デプロイの取得"
        response = self._send("GET", f"/deployments/name/{quote(flow)}/{quote(name)}", what)
        if response.status_code == 404:
            raise DrillFailed(
                f"デプロイ「{flow}/{name}」がありません。make up（prefect deploy --all）を確認してください"
            )
        found: dict[str, Any] = self._json(response, what)
        return found

    def start(self, deployment_id: str, parameters: dict[str, Any]) -> Run:
        body = {"parameters": parameters, "idempotency_key": f"drill-{uuid.uuid4()}"}
        url = f"/deployments/{deployment_id}/create_flow_run"
        what = "フロー実行の開始"
        return Run.parse(self._json(self._send("POST", url, what, body), what))

    def run(self, run_id: str) -> Run:
        what = "フロー実行の取得"
        return Run.parse(self._json(self._send("GET", f"/flow_runs/{run_id}", what), what))

    def tagged(self, *tags: str) -> list[Run]:
        """The runs carrying every one of `tags`, oldest first."""
        body = {"flow_runs": {"tags": {"all_": list(tags)}}, "sort": "EXPECTED_START_TIME_ASC"}
        what = "フロー実行の検索"
        found = self._json(self._send("POST", "/flow_runs/filter", what, body), what)
        return [Run.parse(r) for r in found]

    def form_schema(self, run: Run) -> dict[str, Any] | None:
        """The paused form's JSON schema; None until the run has saved it.

        Prefect sets the Paused/Suspended state first and saves the form's schema just after,
        so a quick reader can see the pause before its form exists.
        """
        what = f"{run.name} の回答フォームの定義の取得"
        response = self._send("GET", f"/flow_runs/{run.id}/input/{run.schema_key}", what)
        if response.status_code == 404:
            return None
        schema: dict[str, Any] = self._json(response, what)
        return schema

    def resume(self, run: Run, run_input: dict[str, Any]) -> tuple[str, str]:
        """(status, reason): ACCEPT, or REJECT/ABORT with the server's reason."""

        def still_waiting() -> bool:
            try:
                return self.run(run.id).pause == run.pause
            except DrillFailed:
                return True

        url = f"/flow_runs/{run.id}/resume"
        try:
            response = self._send(
                "POST", url, "回答の送信", {"run_input": run_input}, still_waiting
            )
        except DrillFailed:
            if still_waiting():
                raise
            return "ACCEPT", ""  # an attempt went through before its answer was lost
        result = self._json(response, "回答の送信")
        details = result.get("details") or {}
        return str(result.get("status")), str(details.get("reason") or "")
