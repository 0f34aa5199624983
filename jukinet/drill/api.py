"""The few Prefect REST calls a clerk's browser makes (httpx; no Prefect import)."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from jukinet.drill.scenario import DrillFailed


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
    repeated while the run still waits at the same pause key.
    """

    RETRY_STATUS = frozenset({429, 502, 503, 504})
    RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 4.0, 8.0, 8.0)

    def __init__(self, base_url: str, auth_string: str | None = None) -> None:
        headers = {}
        if auth_string:
            headers["Authorization"] = "Basic " + base64.b64encode(auth_string.encode()).decode()
        self.client = httpx.Client(base_url=base_url.rstrip("/"), timeout=30.0, headers=headers)

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
                response = self.client.request(method, url, json=json)
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

    def tagged(self, tag: str) -> list[Run]:
        body = {"flow_runs": {"tags": {"all_": [tag]}}, "sort": "EXPECTED_START_TIME_ASC"}
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
