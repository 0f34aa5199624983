"""The close of an incident keeps a copy of its audit trail on the run: the 経過記録 with the chain
head and the SHA-256 of its JSON Lines form, that digest chained in the store, once."""

from __future__ import annotations

from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactCollectionFilter,
    ArtifactCollectionFilterKey,
    ArtifactFilter,
    ArtifactFilterKey,
)
from prefect.client.schemas.objects import Artifact

from flows.runtime import journal_key, runtime
from jukinet.audit_export import artifact_key, collect, render, sha256_hex
from jukinet.journal import render_journal
from tasks.closing import keep_audit_copy
from tests.flows.conftest import Driver
from tests.flows.test_chapter2 import run_short_outage


def artifacts(key: str) -> list[Artifact]:
    with get_client(sync_client=True) as client:
        return client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key]))
        )


@flow(name="監査記録の写しの再実行（試験）")
def replay_copy(number: str) -> None:
    """What a replay of the close does after its 終結 record: keep the copy again."""
    keep_audit_copy(runtime().store.incident(number), "C2.3")


def test_closing_keeps_the_trail_on_the_run_once(driver: Driver) -> None:
    number = run_short_outage(driver)

    store = runtime().store
    incident = store.incident(number)
    records = store.audit_records(incident.id)
    closed = next(r for r in records if r.kind == "終結")
    (copy,) = [r for r in records if r.kind == "監査記録の写し"]
    assert (copy.clause, copy.event_key) == ("C2.3", f"{number}|audit-export")
    assert copy.seq > closed.seq and store.verify_chain().ok

    # the digest chained in the store is that of the trail up to the head it names
    upto = copy.details["head_seq"]
    trail = collect(store, number, upto=upto)
    digest = sha256_hex(render(trail, "jsonl"))
    assert copy.details["jsonl_sha256"] == digest
    assert copy.details["head_hash"] == trail.head.hash
    assert trail.records[-1].seq == closed.seq  # the copy covers the close, not itself

    key = artifact_key(incident)
    (artifact,) = artifacts(key)
    assert artifact.description == "経過記録（終結時の監査記録の写し）"
    markdown = str(artifact.data)
    assert markdown.startswith(f"# 経過記録 {number}\n")
    assert f"- 監査記録の連鎖: 正常（{upto} 件）" in markdown
    assert f"- JSON Lines 形式の写しの SHA-256: `{digest}`" in markdown
    assert f"- 連鎖の末尾（通番 {upto}）のハッシュ: `{trail.head.hash}`" in markdown
    assert f"通番 {copy.seq} の記録「監査記録の写し」（ハッシュ `{copy.hash}`）" in markdown
    assert (
        f"| C2.3 第2章 3 再発防止策 | 終結 | システム | 緊急時対応を終結しました（終結） | `{closed.hash[:12]}` |"
        in markdown
    )
    assert "| 多住第" in markdown and "未送付" not in markdown
    with get_client(sync_client=True) as client:
        assert artifact.flow_run_id is not None
        assert client.read_flow_run(artifact.flow_run_id).name.startswith(number)

    # a replay of the close keeps nothing twice; a copy lost before it reached Prefect comes back
    replay_copy(number)
    assert len(artifacts(key)) == 1
    assert [r.kind for r in store.audit_records(incident.id)].count("監査記録の写し") == 1
    with get_client(sync_client=True) as client:
        client.delete_artifact(artifact.id)
    replay_copy(number)
    (again,) = artifacts(key)
    assert again.data == artifact.data
    assert [r.kind for r in store.audit_records(incident.id)].count("監査記録の写し") == 1


def test_the_journal_is_one_artifact_per_run_kept_current(driver: Driver) -> None:
    """Each step updates the run's own 経過記録 instead of adding a version: a chapter's
    Artifacts tab shows one, and it reads as the record ends."""
    number = run_short_outage(driver)

    store = runtime().store
    incident = store.incident(number)
    versions = artifacts(journal_key(incident))
    runs = {a.flow_run_id for a in versions}
    assert len(runs) == 2  # 第1章 and 第2章 (a subflow here)
    assert len(versions) <= 3, [(a.flow_run_id, a.created) for a in versions]
    with get_client(sync_client=True) as client:
        (newest,) = client.read_latest_artifacts(
            artifact_filter=ArtifactCollectionFilter(
                key=ArtifactCollectionFilterKey(any_=[journal_key(incident)])
            )
        )
    assert newest.data == render_journal(
        store.incident(number), store.audit_records(incident.id), store.notices(incident.id)
    )
