"""What every flow and task of a run shares: validated configuration, the store, the outbox,
and the two primitives that make a replay after resume cheap and side-effect free:

    run_step(incident, "C2.S1.2", report_to_officer, number, ident)   # a task, once per incident
    publish_journal(incident)                                          # 経過記録 artifact, updated
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Annotated, Any, ParamSpec, TypeVar

from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import ArtifactUpdate
from prefect.client.schemas.filters import ArtifactCollectionFilter, ArtifactCollectionFilterKey
from prefect.context import FlowRunContext
from prefect.tasks import Task
from pydantic import BaseModel
from sqlalchemy import Engine

from jukinet.config.loader import Config
from jukinet.config.towns import load_configs, pick
from jukinet.forms.common import (
    MUNICIPALITY_HINT,
    MUNICIPALITY_TITLE,
    TOWN_TAG_PREFIX,
    parameter,
    redacted,
)
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


MUNICIPALITY_PARAMETER = "municipality_code"  # every flow staff start takes it (団体コード)
Municipality = Annotated[str, parameter(MUNICIPALITY_TITLE, MUNICIPALITY_HINT)]
_current_town: ContextVar[str | None] = ContextVar("jukinet_town", default=None)


@functools.cache
def towns() -> dict[str, Config]:
    """Every municipality's configuration, validated once per process (ConfigError, Japanese)."""
    return load_configs(load_settings().config_dir)


@functools.cache
def _engine(url: str) -> Engine:
    return make_engine(url)  # one pool per process, shared by every town's store


@functools.cache
def _runtime_of(code: str) -> Runtime:
    settings = load_settings()
    config = towns()[code]
    store = Store(_engine(settings.store_url), code)
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


def current_town() -> str | None:
    """The town being served: `serving(code)`'s, else the current flow run's 団体コード parameter."""
    code = _current_town.get()
    if code:
        return code
    ctx = FlowRunContext.get()
    if ctx is not None and ctx.flow_run is not None:
        value = (ctx.flow_run.parameters or {}).get(MUNICIPALITY_PARAMETER)
        if value:
            return str(value).strip()
    return None


def runtime(code: str | None = None) -> Runtime:
    """The town's configuration, store and outbox, made once per process and town. Without a
    code: the current town (see current_town), or the only one; several towns and no code is a
    LookupError in Japanese, as is an unknown code."""
    return _runtime_of(pick(towns(), code or current_town()).town.municipality.code)


def reset_runtime() -> None:
    """Forget the loaded configuration and stores (tests that change them between runs)."""
    for cached in (_runtime_of, _engine, towns, _resident_index_of):
        cached.cache_clear()


@contextmanager
def serving(code: str) -> Iterator[Runtime]:
    """Work for town `code` in this block, in a flow that serves every town (督促, 再送)."""
    token = _current_town.set(code)
    try:
        yield runtime(code)
    finally:
        _current_town.reset(token)


def run_label(name: str) -> str:
    """A run's name, after the town's name when the installation serves several towns."""
    if len(towns()) == 1:
        return name
    return f"{runtime().config.town.municipality.name} {name}"


def town_prefix() -> str:
    """`彦根市（252026）: ` before a log line when the installation serves several towns."""
    if len(towns()) == 1:
        return ""
    town = runtime().config.town.municipality
    return f"{town.name}（{town.code}）: "


def town_key(prefix: str) -> str:
    """An artifact key of the current town: `prefix` alone when one town is served, else
    `prefix-<code>` (each town's list apart from the others')."""
    if len(towns()) == 1:
        return prefix
    return f"{prefix}-{runtime().store.municipality}"


def rename_run(name: str, tags: list[str]) -> None:
    """`令和8年度-001 第1章 緊急時対応 2026-11-27`, tagged with the town, the number and the
    chapter; with several towns the name starts with the town's (`彦根市 令和8年度-001 …`)."""
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(current_flow_run_id())  # type: ignore[arg-type]
        every = list(dict.fromkeys([*run.tags, town_tag(), *tags]))
        client.update_flow_run(run.id, name=run_label(name), tags=every)


def name_for_town(name: str) -> None:
    """With several towns, a run started under a plain name gets the town's name in front (the
    UI lists every town's runs together); one town: nothing to do."""
    if len(towns()) > 1:
        rename_run(name, [])


def town_tag(code: str | None = None) -> str:
    """The tag of a town's runs: `団体:254436`."""
    return f"{TOWN_TAG_PREFIX}{code or runtime().store.municipality}"


def resident_index() -> ResidentIndex | None:
    """The current town's registry of names and addresses (town.yaml `residents`), read once per
    process; when it cannot be read the forms check by shape only, and the run's log says so."""
    return _resident_index_of(runtime().store.municipality)


@functools.cache
def _resident_index_of(code: str) -> ResidentIndex | None:
    registry = runtime(code).config.town.residents
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
