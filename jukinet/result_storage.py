"""Where every worker keeps flow-run results: a shared folder, saved as the Prefect block
`local-file-system/jukinet-results` and made the server's default result storage.

A run suspended for an answer resumes on whichever worker picks it up; that worker's flow-run
process reads the earlier steps' results back. Prefect 3.9 lets the server name the default
result storage (PUT /api/admin/storage): every flow-run process asks the server for it when it
starts, so a worker machine needs no setting of its own and cannot silently write results to a
local folder the other machines never see.

    register(path)      # on the deploying machine: save the block, make it the server's default
    check_here()        # on a worker's machine, before it starts: the folder is there and writable

The folder must be mounted at the same path on every worker's machine (an NFS share, say).
The deploying machine need not mount it.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import cast
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.filesystems import LocalFileSystem

BLOCK_NAME = "jukinet-results"
BLOCK_SLUG = f"local-file-system/{BLOCK_NAME}"


class StorageError(Exception):
    """The result storage cannot be used; the message is Japanese and names the folder."""


@dataclass(frozen=True)
class Registered:
    block_id: UUID
    basepath: str


def register(path: Path) -> Registered:
    """Save `path` as block jukinet-results (replacing an earlier one) and make it the server's
    default result storage. `path` must be absolute: every worker resolves it on its own machine."""
    if not path.is_absolute():
        raise StorageError(
            f"結果の保存先（PREFECT_LOCAL_STORAGE_PATH）は絶対パスで指定してください: {path}"
        )
    # called from sync code, Block.save returns the id (its async twin is asave)
    block_id = cast(UUID, LocalFileSystem(basepath=str(path)).save(BLOCK_NAME, overwrite=True))
    with get_client(sync_client=True) as client:
        client.update_server_default_result_storage(block_id)
    return Registered(block_id, str(path))


def registered() -> Registered | None:
    """The server's default result storage, when it is a local-file-system block; None when the
    server names none. Another kind of block is an error: this product writes to a folder."""
    with get_client(sync_client=True) as client:
        block_id = client.read_server_default_result_storage().default_result_storage_block_id
        if block_id is None:
            return None
        document = client.read_block_document(block_id, include_secrets=False)
    basepath = document.data.get("basepath")
    if document.block_type is None or document.block_type.slug != "local-file-system":
        kind = document.block_type.slug if document.block_type else "不明"
        raise StorageError(
            f"Prefect サーバーの結果の保存先がフォルダではありません（ブロックの種類 {kind}）。"
            "jukinet result-storage で共有フォルダを登録してください。"
        )
    if not isinstance(basepath, str) or not basepath:
        raise StorageError(
            f"Prefect サーバーの結果の保存先（ブロック {document.name}）にフォルダがありません。"
            "jukinet result-storage で登録し直してください。"
        )
    return Registered(block_id, basepath)


def check_here() -> Registered | None:
    """The registered storage after checking its folder on this machine (exists, is a folder,
    a file can be written and removed); None when the server names none."""
    storage = registered()
    if storage is None:
        return None
    folder = Path(storage.basepath)
    if folder.exists() and not folder.is_dir():
        raise StorageError(f"結果の保存先 {folder} はフォルダではありません。")
    if not folder.is_dir():
        raise StorageError(
            f"結果の保存先のフォルダ {folder} がこのマシンにありません。"
            "すべてのワーカーのマシンで、共有フォルダを同じパスにマウントしてください。"
        )
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".jukinet-write-check-"):
            pass
    except OSError as exc:
        raise StorageError(
            f"結果の保存先のフォルダ {folder} に書き込めません（{exc.strerror}）。"
            f"ワーカーのアカウント（uid {os.getuid()}）に書き込みの権限を与えてください。"
        ) from exc
    return storage
