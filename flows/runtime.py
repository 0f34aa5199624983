"""What every flow and task of a run shares: validated configuration, the store, the outbox,
and the two primitives that make a replay after resume cheap and side-effect free:

    run_step(incident, "C2.S1.2", report_to_officer, number, ident)   # a task, once per incident
    publish_journal(incident)                                          # 経過記録 artifact, updated
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import ArtifactUpdate
from prefect.client.schemas.filters import ArtifactCollectionFilter, ArtifactCollectionFilterKey
from prefect.context import FlowRunContext
from prefect.tasks import Task
from pydantic import BaseModel

from jukinet.config.loader import Config, load_config
from jukinet.forms.common import redacted
from jukinet.journal import render_journal
from jukinet.notices.outbox import Outbox
from jukinet.notices.render import make_environment
from jukinet.notices.secrets import delivery_secrets
from jukinet.residents import ResidentIndex, load_index
from jukinet.settings import Settings, load_settings
from jukinet.store.db import make_engine
from jukinet.store.models import Incident
from jukinet.store.store import Store

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    config: Config
    store: Store
    outbox: Outbox


@functools.cache
def runtime() -> Runtime:
    """Loaded once per process; invalid configuration stops the run here with a Japanese error."""
    settings = load_settings()
    config = load_config(settings.config_dir)
    store = Store(make_engine(settings.store_url), config.town.municipality.code)
    password, tokens = delivery_secrets(config)
    outbox = Outbox(
        store,
        config,
        make_environment(settings.templates_dir, config.town.notation),
        settings.archive_dir,
        smtp_password=password,
        webhook_tokens=tokens,
    )
    return Runtime(settings, config, store, outbox)


@functools.cache
def resident_index() -> ResidentIndex | None:
    """The registry's names and addresses (town.yaml `residents`), read once per process; when
    the registry cannot be read the forms check by shape only, and the run's log says so."""
    registry = runtime().config.town.residents
    if registry is None:
        return None
    try:
        index = load_index(registry)
    except Exception as exc:  # the registry is down: keep answering, say what is not checked
        logging.getLogger("jukinet").warning(
            "既存住基システムの住民データを読めないため、回答の文の氏名・住所の確認を行いません"
            "（数字・生年月日の確認は行います）: %s",
            type(exc).__name__,
        )
        return None
    return index


def redact_parameters(name: str, value: BaseModel) -> None:
    """Blank what looks like 本人確認情報 in the run's stored parameter `name` (the UI shows the
    parameters of a run whose input was refused)."""
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(current_flow_run_id())  # type: ignore[arg-type]
        parameters = {**run.parameters, name: redacted(value, resident_index())}
        client.update_flow_run(run.id, parameters=parameters)


def in_deployment() -> bool:
    ctx = FlowRunContext.get()
    return bool(ctx and ctx.flow_run and ctx.flow_run.deployment_id)


def current_flow_run_id() -> str:
    ctx = FlowRunContext.get()
    if ctx is None or ctx.flow_run is None:
        raise RuntimeError("not inside a flow run")
    return str(ctx.flow_run.id)


def run_url(flow_run_id: str | None = None) -> str:
    """The run's page in Prefect's V2 UI, which the UI's root opens and which masks approval codes
    (`http://127.0.0.1:4200/v2/runs/flow-run/<id>`); the current run by default."""
    ui = runtime().config.town.ui_url.rstrip("/")
    return f"{ui}/v2/runs/flow-run/{flow_run_id or current_flow_run_id()}"


def run_step(
    incident: Incident, step_key: str, task: Task[P, R], *args: P.args, **kwargs: P.kwargs
) -> R:
    """Run `task` once for this incident; a replay returns the recorded result without a task run."""
    store = runtime().store
    done = store.step_result(incident.id, step_key)
    if done is not None:
        return done["value"]
    value = task(*args, **kwargs)
    store.record_step(incident.id, step_key, {"value": value})
    publish_journal(incident)
    return value


def artifact_key(prefix: str, name: str) -> str:
    """A Prefect artifact key (lowercase letters, digits and dashes) for `name`."""
    return prefix + "".join(c if c.isascii() and c.isalnum() else "-" for c in name).lower()


def journal_key(incident: Incident) -> str:
    seq = incident.number.rsplit("-", 1)[-1]
    return f"keika-{incident.municipality_code}-{incident.fiscal_year}-{seq}"


def publish_journal(incident: Incident) -> None:
    """Show the 経過記録 as it is now in the incident's Markdown artifact.

    While this run published the newest version, that version is updated in place, so a run's
    Artifacts tab holds one 経過記録 per stretch of publishing, not one per step (the store's
    audit chain is the record; the artifact is its view). Otherwise a new version is created.
    """
    if FlowRunContext.get() is None:
        return
    store = runtime().store
    current = store.incident(incident.number)
    markdown = render_journal(current, store.audit_records(current.id), store.notices(current.id))
    key = journal_key(current)
    with get_client(sync_client=True) as client:
        newest = client.read_latest_artifacts(
            artifact_filter=ArtifactCollectionFilter(key=ArtifactCollectionFilterKey(any_=[key])),
            limit=1,
        )
        if newest and str(newest[0].flow_run_id) == current_flow_run_id():
            client.update_artifact(newest[0].latest_id, ArtifactUpdate(data=markdown))
            return
    create_markdown_artifact(markdown=markdown, key=key, description=f"経過記録 {current.number}")


def step_task(name: str, **options: Any) -> Callable[[Callable[P, R]], Task[P, R]]:
    """A plan step as a Prefect task: Japanese name, no Prefect caching (run_step replays)."""
    from prefect import task

    def wrap(fn: Callable[P, R]) -> Task[P, R]:
        return task(
            name=name,
            task_run_name=name,
            cache_policy=NO_CACHE,
            persist_result=False,
            **options,
        )(fn)

    return wrap
