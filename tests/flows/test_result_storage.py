"""jukinet result-storage and the worker's check of the results folder, on the session's
Prefect test server. Each test leaves the server with no default result storage again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect import flow, task
from prefect.client.orchestration import get_client
from prefect.settings import get_current_settings

from jukinet import result_storage
from jukinet.cli import main


@pytest.fixture
def server(product: Path) -> Iterator[None]:
    """The session's server (and the product's configuration), its default storage cleared after."""
    try:
        yield
    finally:
        with get_client(sync_client=True) as client:
            client.clear_server_default_result_storage()


@task(persist_result=True)
def double(n: int) -> int:
    return 2 * n


@flow(persist_result=True)
def doubled(n: int) -> int:
    return double(n)


def files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


def test_runs_keep_results_in_the_registered_folder(server: None, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    assert result_storage.registered() is None

    done = result_storage.register(shared)
    assert result_storage.registered() == done
    assert done.basepath == str(shared)
    assert result_storage.check_here() == done

    local = Path(get_current_settings().results.local_storage_path)  # where runs write otherwise
    local_before = files(local)
    assert doubled(21) == 42
    assert len(files(shared)) >= 2  # the task's result and the flow's
    assert files(local) == local_before

    # registering again replaces the block: one block, the new folder
    moved = tmp_path / "moved"
    again = result_storage.register(moved)
    assert again.block_id == done.block_id
    assert result_storage.registered() == again
    with pytest.raises(result_storage.StorageError) as missing:
        result_storage.check_here()
    assert f"結果の保存先のフォルダ {moved} がこのマシンにありません" in str(missing.value)


def test_a_relative_folder_is_refused(server: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["result-storage", "results"]) == 2
    err = capsys.readouterr().err
    assert "結果の保存先（PREFECT_LOCAL_STORAGE_PATH）は絶対パスで指定してください: results" in err
    assert result_storage.registered() is None


def test_the_command_registers_and_says_where(
    server: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["result-storage", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert (
        f"結果の保存先を登録しました: {tmp_path}（ブロック local-file-system/jukinet-results）"
        in out
    )
    stored = result_storage.registered()
    assert stored is not None and stored.basepath == str(tmp_path)


def test_the_worker_does_not_start_without_the_shared_folder(
    server: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unmounted = tmp_path / "nfs" / "results"
    result_storage.register(unmounted)
    assert main(["worker"]) == 2  # returned: os.execv of `prefect worker` never happened
    err = capsys.readouterr().err
    assert f"結果の保存先のフォルダ {unmounted} がこのマシンにありません" in err
    assert err.rstrip().endswith("ワーカーを起動しません。")
    assert not unmounted.exists()  # never created here: results must not land on a local disk


def test_a_folder_that_cannot_be_used_is_named(server: None, tmp_path: Path) -> None:
    a_file = tmp_path / "results"
    a_file.write_text("not a folder\n", encoding="utf-8")
    result_storage.register(a_file)
    with pytest.raises(result_storage.StorageError) as wrong:
        result_storage.check_here()
    assert str(wrong.value) == f"結果の保存先 {a_file} はフォルダではありません。"

    read_only = Path("/proc")  # no one creates files there, root neither
    result_storage.register(read_only)
    with pytest.raises(result_storage.StorageError) as wrong:
        result_storage.check_here()
    assert "結果の保存先のフォルダ /proc に書き込めません" in str(wrong.value)


def test_a_storage_of_another_kind_is_refused(server: None) -> None:
    """The server accepts any block that can be written to; this product writes to a folder."""
    from prefect.filesystems import RemoteFileSystem

    elsewhere = RemoteFileSystem(basepath="memory://results").save("elsewhere", overwrite=True)
    with get_client(sync_client=True) as client:
        client.update_server_default_result_storage(elsewhere)  # type: ignore[arg-type]
    with pytest.raises(result_storage.StorageError) as wrong:
        result_storage.registered()
    assert "フォルダではありません（ブロックの種類 remote-file-system）" in str(wrong.value)
