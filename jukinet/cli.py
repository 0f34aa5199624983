"""`jukinet` command line.

jukinet check-config          validate deployments/config (or $JUKINET_CONFIG_DIR): every town
                              in it (one folder per 団体コード when there are several)
jukinet set-code PERSON_ID    set or change a person's approval code (asked twice, never shown)
jukinet verify-audit          verify the audit chain; names the first broken record
jukinet migrate               create or upgrade the store's schema (Alembic; back up first)
jukinet export-audit NUMBER   an incident's audit trail as 経過記録 (--format jsonl|md|html, --out)
jukinet backup --to DIR       pg_dump the store and Prefect's database into DIR/jukinet-backup-<UTC>/
jukinet restore FOLDER --yes  pg_restore a backup folder, then verify every town's audit chain
jukinet up                    the whole product on this machine (make up)
                              --profile production: basic auth, CSRF protection (docs/production.md)
jukinet result-storage [PATH] save the shared results folder (default PREFECT_LOCAL_STORAGE_PATH)
                              as a Prefect block and make it the server's default result storage
jukinet worker                validate configuration and the results folder, then start the worker
jukinet mailbox               the local SMTP mailbox
jukinet drill SCENARIO.yaml   run a drill scenario against the running product
jukinet preview DOCUMENT_ID   render a document to the terminal, never sent (--list: the register)
jukinet check-templates       render every document for every recipient with sample data; check
"""

from __future__ import annotations

import argparse
import getpass
import importlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ruamel.yaml import YAML

from jukinet.codes import hash_code
from jukinet.config.loader import Config, ConfigError
from jukinet.config.towns import load_configs, pick, town_folders
from jukinet.settings import load_settings

if TYPE_CHECKING:
    from jukinet.store.store import Store

MIN_CODE_LENGTH = 4


def _configs(refusal: str | None = None) -> dict[str, Config] | None:
    """Every town's validated configuration, or None after printing every problem in Japanese."""
    try:
        return load_configs(load_settings().config_dir)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        if refusal:
            print(refusal, file=sys.stderr)
        return None


def _config(refusal: str | None = None) -> Config | None:
    """The one town's configuration (JUKINET_MUNICIPALITY picks one of several), or None after
    printing the problem in Japanese."""
    configs = _configs(refusal)
    if configs is None:
        return None
    try:
        return pick(configs, os.environ.get("JUKINET_MUNICIPALITY"))
    except LookupError as exc:
        print(f"{exc}（環境変数 JUKINET_MUNICIPALITY）", file=sys.stderr)
        return None


def check_config(_: argparse.Namespace) -> int:
    """Every town: its summary line, then its registry, integrity and access-log checks."""
    settings = load_settings()
    configs = _configs()
    if configs is None:
        return 2
    if len(configs) > 1:
        print(f"{len(configs)} 団体の設定があります（{settings.config_dir}）。")
    worst = 0
    for cfg in configs.values():
        town = cfg.town.municipality
        print(
            f"設定は正しく読み込めました: {town.name}（{town.code}）"
            f" 職員 {len(cfg.roster.people)} 名、連絡先 {sum(len(v) for v in cfg.contacts.bodies.values())} 件"
            f"、訓練時の宛先 {len(cfg.drill.recipients)} 件（{cfg.directory}）"
        )
        result = (
            _check_registry(cfg) or _check_integrity(cfg) or _check_access_logs(cfg, settings.home)
        )
        worst = max(worst, result)
    return worst


def _check_access_logs(cfg: Config, home: Path) -> int:
    """town.yaml `access_logs`: where the logs go, and which files there are read how."""
    logs = cfg.town.access_logs
    if logs is None:
        print("アクセスログの解析（access_logs）は未設定です: 手順5 でログの解析は行いません")
        return 0
    from jukinet.accesslog.analyse import layout_for

    folder = logs.folder_in(home)
    if folder.exists() and not folder.is_dir():
        print(
            f"設定の誤り: アクセスログのフォルダ {folder} がフォルダではありません", file=sys.stderr
        )
        return 2
    files = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
    unread = [p.name for p in files if layout_for(p, logs) is None]
    print(
        f"アクセスログの解析: ログのフォルダ {folder}"
        + ("（まだありません。ログを置くときに作成してください）" if not folder.is_dir() else "")
        + f"、ファイル {len(files)} 件"
        + (f"（読み方の決まっていないファイル: {'、'.join(unread)}）" if unread else "")
    )
    return 0


def _check_integrity(cfg: Config) -> int:
    """town.yaml `integrity`: both sides' tables and columns must be readable now."""
    if cfg.town.integrity is None:
        print("本人確認情報の整合性確認（integrity）は未設定です: 整合性は担当者が入力します")
        return 0
    from jukinet.integrity.check import probe

    problems = probe(cfg.town.integrity)
    for problem in problems:
        print(f"設定の誤り: {problem}", file=sys.stderr)
    if problems:
        return 2
    print(
        "本人確認情報の整合性確認: CS と既存住基システムの表を読めます（運用再開の前に自動で照合します）"
    )
    return 0


def _check_registry(cfg: Config) -> int:
    """town.yaml `residents`: the registry must be readable now, not at the first answer."""
    registry = cfg.town.residents
    if registry is None:
        print(
            "既存住基システムの住民データ（residents）は未設定です: 回答の文の氏名・住所は確認しません"
        )
        return 0
    from sqlalchemy.exc import SQLAlchemyError

    from jukinet.notices.secrets import SecretError
    from jukinet.residents import load_index

    try:
        index = load_index(registry)
    except SecretError as exc:
        print(f"設定の誤り: {exc}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or type(exc).__name__
        print(
            f"設定の誤り: town.yaml residents: 既存住基システムの住民データを読めません（{cause}）",
            file=sys.stderr,
        )
        return 2
    print(f"既存住基システムの住民データ: {len(index)} 人（回答の文の氏名・住所の確認に使います）")
    return 0


def _read_code(args: argparse.Namespace) -> str | None:
    if args.stdin:
        lines = sys.stdin.read().splitlines()
        first, second = [*lines, "", ""][:2]
    else:
        first = getpass.getpass("新しい承認コード: ")
        second = getpass.getpass("もう一度入力してください: ")
    if first != second:
        print("2回の入力が一致しません。承認コードは変更していません。", file=sys.stderr)
        return None
    if len(first) < MIN_CODE_LENGTH:
        print(f"承認コードは {MIN_CODE_LENGTH} 文字以上にしてください。", file=sys.stderr)
        return None
    return first


def _town_folder() -> Path | None:
    """The folder of the town to change: the only one, or JUKINET_MUNICIPALITY's."""
    config_dir = load_settings().config_dir
    folders = town_folders(config_dir) if config_dir.is_dir() else []
    if len(folders) == 1:
        return folders[0]
    code = os.environ.get("JUKINET_MUNICIPALITY", "")
    chosen = [f for f in folders if f.name == code]
    if not chosen:
        print(
            f"団体コードを環境変数 JUKINET_MUNICIPALITY で指定してください（{config_dir} の団体: "
            f"{'、'.join(f.name for f in folders) or 'なし'}）。",
            file=sys.stderr,
        )
        return None
    return chosen[0]


def set_code(args: argparse.Namespace) -> int:
    folder = _town_folder()
    if folder is None:
        return 2
    path = folder / "roster.yaml"
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # keep each code_hash on its own line
    data = yaml.load(path.read_text(encoding="utf-8"))
    people = data.get("people") or []
    person = next((p for p in people if p.get("id") == args.person_id), None)
    if person is None:
        print(f"roster.yaml に職員ID「{args.person_id}」の職員がいません。", file=sys.stderr)
        return 2
    code = _read_code(args)
    if code is None:
        return 2
    person["code_hash"] = hash_code(code)
    tmp = path.with_suffix(".yaml.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        yaml.dump(data, fh)
    tmp.replace(path)
    print(f"{person.get('name', args.person_id)} の承認コードを設定しました（ハッシュのみ保存）。")
    return 0


def verify_audit(_: argparse.Namespace) -> int:
    """Every town's chain (one town with JUKINET_MUNICIPALITY); 1 when any is broken."""
    from jukinet.store.db import make_engine
    from jukinet.store.store import Store

    settings = load_settings()
    configs = _configs()
    if configs is None:
        return 2
    chosen = os.environ.get("JUKINET_MUNICIPALITY")
    if chosen:
        cfg = _config()
        if cfg is None:
            return 2
        configs = {chosen: cfg}
    engine = make_engine(settings.store_url)
    broken = 0
    for code, cfg in configs.items():
        label = f"{cfg.town.municipality.name}（{code}）の" if len(configs) > 1 else ""
        report = Store(engine, code).verify_chain()
        if report.ok:
            print(f"{label}監査記録の連鎖は正常です（{report.records} 件）。")
        else:
            print(f"{label}監査記録の連鎖が壊れています: {report.problem}", file=sys.stderr)
            broken = 1
    return broken


def _store_unreachable(exc: Exception, then: str = "") -> None:
    """The line for a store that did not answer (SQLAlchemy's OperationalError: its driver
    message, which names host and port, never the password)."""
    reason = getattr(exc, "orig", None) or exc
    print(f"記録の保管庫（JUKINET_STORE_URL）に接続できません: {reason}{then}", file=sys.stderr)


def migrate_store(args: argparse.Namespace) -> int:
    """Bring the store's schema to this program's revision (a 0.1.0 store is stamped first).

    0: done; 1: the database did not answer (worth retrying); 2: the schema cannot be upgraded."""
    from sqlalchemy.exc import OperationalError

    from jukinet.store import migrate
    from jukinet.store.db import connect

    try:
        before, after = migrate.upgrade(connect(load_settings().store_url))
    except migrate.SchemaError as exc:
        print(exc, file=sys.stderr)
        return 2
    except OperationalError as exc:
        _store_unreachable(exc)
        return 1
    if before == after:
        print(f"記録の保管庫のスキーマは最新です（{after.current}）。")
        return 0
    found = before.current or f"{migrate.BASELINE}（リリース 0.1.0、版の記録なし）"
    if before.empty:
        found = "空"
    print(f"記録の保管庫のスキーマを更新しました: {found} → {after.current}")
    return 0


LATEST_SHOWN = 10


def export_audit(args: argparse.Namespace) -> int:
    """0: exported; 1: exported, but the chain does not verify; 2: nothing exported."""
    from jukinet import audit_export
    from jukinet.notices.preview import incident_numbers

    settings = load_settings()
    cfg = _config()
    if cfg is None:
        return 2
    store = _existing_store(settings.store_url, cfg.town.municipality.code)
    numbers = [] if store is None else incident_numbers(store)
    if store is None or args.number not in numbers:
        latest = numbers[::-1][:LATEST_SHOWN]
        print(f"事案番号「{args.number}」の事案は記録にありません。", file=sys.stderr)
        print("最近の事案番号: " + ("、".join(latest) if latest else "なし"), file=sys.stderr)
        return 2
    trail = audit_export.collect(store, args.number, upto=args.upto)
    text = audit_export.render(trail, args.format)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        print(
            f"事案 {args.number} の監査記録を {audit_export.FORMATS[args.format]}で"
            f"書き出しました: {args.out}（SHA-256 {audit_export.sha256_hex(text)}）"
        )
    else:
        sys.stdout.write(text)
    if not trail.check.ok:
        print(f"監査記録の連鎖が壊れています: {trail.check.problem}", file=sys.stderr)
        return 1
    return 0


def backup_databases(args: argparse.Namespace) -> int:
    """0: a backup folder made; 2: nothing made (the reason on stderr)."""
    from jukinet import backup

    store_url = load_settings().store_url
    if backup.is_sqlite(store_url):
        print(backup.sqlite_advice(store_url), file=sys.stderr)
        return 2
    prefect_url, note = backup.prefect_database_url(os.environ)
    if note:
        print(note)
    try:
        report = backup.backup(store_url, prefect_url, args.to)
    except backup.BackupError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"バックアップを作成しました: {report.folder}")
    for name, entry in report.files.items():
        print(f"  {name}: {entry.size:,} バイト（SHA-256 {entry.sha256}）")
    for code, head in report.heads.items():
        print(f"  団体 {code}: 監査記録の末尾 通番 {head.seq}（ハッシュ {head.last_hash[:12]}）")
    return 0


def restore_databases(args: argparse.Namespace) -> int:
    """0: restored, every chain verified; 1: restored, a chain does not verify; 2: not restored."""
    from jukinet import backup

    store_url = load_settings().store_url
    if backup.is_sqlite(store_url):
        print(backup.sqlite_advice(store_url), file=sys.stderr)
        return 2
    prefect_url, note = backup.prefect_database_url(os.environ)
    try:
        if not args.yes:
            manifest = backup.check_backup(args.folder)
            print(backup.describe_restore(manifest, store_url, prefect_url), file=sys.stderr)
            return 2
        report = backup.restore(args.folder, store_url, prefect_url)
    except backup.BackupError as exc:
        print(exc, file=sys.stderr)
        return 2
    for line in [note, *report.notes]:
        if line:
            print(line)
    print(f"復元しました: {report.folder}（{'、'.join(report.restored)}）")
    for town in report.towns:
        print(town.message, file=sys.stdout if town.ok else sys.stderr)
    if not report.ok:
        print(
            "復元した監査記録の検証に失敗しました。製品を起動せず、docs/backup.md の"
            "「検証に失敗したとき」に従ってください。",
            file=sys.stderr,
        )
        return 1
    return 0


def _refuse(message: str, choices: list[str]) -> int:
    print(message, file=sys.stderr)
    print("指定できるもの: " + ("、".join(choices) if choices else "なし"), file=sys.stderr)
    return 2


def preview(args: argparse.Namespace) -> int:
    """One document as it would go out, to stdout; never sent, never numbered."""
    from jukinet.notices import preview as pv
    from jukinet.notices.documents import DOCUMENTS
    from jukinet.notices.render import make_environment
    from jukinet.notices.samples import sample_incident
    from jukinet.store.models import utcnow

    if args.list:
        print(pv.register_table())
        return 0
    if not args.document_id:
        print("文書IDを指定してください（一覧: jukinet preview --list）。", file=sys.stderr)
        return 2
    document = DOCUMENTS.get(args.document_id)
    if document is None:
        return _refuse(f"文書ID「{args.document_id}」は文書の登録簿にありません。", list(DOCUMENTS))
    settings = load_settings()
    cfg = _config()
    if cfg is None:
        return 2
    recipients = {r.id: r for r in pv.recipients_for(cfg, document)}
    if args.recipient is not None and args.recipient not in recipients:
        return _refuse(
            f"宛先ID「{args.recipient}」は文書「{document.subject}」の宛先にありません。",
            list(recipients),
        )
    if not recipients:
        print(f"文書「{document.subject}」の宛先が設定にありません。", file=sys.stderr)
        return 2
    recipient = recipients[args.recipient or next(iter(recipients))]
    env = make_environment(settings.templates_dir, cfg.town.notation)
    if args.incident is None:
        text = pv.preview_text(env, cfg, document, recipient, incident=sample_incident(args.drill))
        note = "見本の事案とデータによる表示です（--incident で記録の事案を指定できます）。"
    else:
        store = _existing_store(settings.store_url, cfg.town.municipality.code)
        numbers = [] if store is None else pv.incident_numbers(store)
        if store is None or args.incident not in numbers:
            return _refuse(f"事案番号「{args.incident}」の事案は記録にありません。", numbers)
        stored = store.incident(args.incident)
        sent = pv.stored_notices(store, stored, document, args.recipient)
        if sent:
            print(pv.stored_text(sent))
            return 0
        incident = pv.incident_as(stored, drill=stored.drill or args.drill)
        text = pv.preview_text(env, cfg, document, recipient, incident=incident, issued=utcnow())
        note = f"事案 {stored.number} の見出しに、見本のデータを用いた表示です（未送付）。"
    others = [i for i in recipients if i != recipient.id]
    print(text)
    print(note)
    if others:
        print(f"ほかの宛先（--recipient で指定）: {'、'.join(others)}")
    return 0


def _existing_store(url: str, code: str) -> Store | None:
    """The store, or None when its SQLite file does not exist (a preview never creates one)."""
    from sqlalchemy.engine import make_url

    from jukinet.store.db import make_engine
    from jukinet.store.store import Store

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        return None
    return Store(make_engine(url), code)


def check_templates(_: argparse.Namespace) -> int:
    from jukinet.notices import preview as pv
    from jukinet.notices.render import make_environment

    settings = load_settings()
    cfg = _config()
    if cfg is None:
        return 2
    env = make_environment(settings.templates_dir, cfg.town.notation)
    report = pv.check_templates(env, cfg, settings.templates_dir)
    for line in [*report.notes, *map(str, report.problems)]:
        print(line)
    print(report.summary)
    return 0 if report.ok else 1


def result_storage(args: argparse.Namespace) -> int:
    """0: registered; 1: the server did not answer; 2: the path is wrong."""
    import httpx
    from prefect.settings import get_current_settings

    from jukinet import result_storage as storage

    path = args.path or get_current_settings().results.local_storage_path
    try:
        done = storage.register(Path(path))
    except storage.StorageError as exc:
        print(exc, file=sys.stderr)
        return 2
    except httpx.HTTPError as exc:
        print(f"Prefect サーバー（PREFECT_API_URL）に登録できません: {exc}", file=sys.stderr)
        return 1
    print(
        f"結果の保存先を登録しました: {done.basepath}（ブロック {storage.BLOCK_SLUG}）。"
        "すべてのワーカーがこのフォルダを使います。"
    )
    return 0


def worker(_: argparse.Namespace) -> int:
    """2: configuration, schema or results folder wrong (systemd does not restart on 2);
    1: the server or the store did not answer (restarted later)."""
    import httpx
    from sqlalchemy.exc import OperationalError

    from jukinet import result_storage as storage
    from jukinet.store.db import make_engine
    from jukinet.store.migrate import SchemaError

    refusal = "ワーカーを起動しません。"
    if _configs(f"設定に誤りがあるため、{refusal}") is None:
        return 2
    try:
        make_engine(load_settings().store_url).dispose()
    except SchemaError as exc:
        print(f"{exc}\n{refusal}", file=sys.stderr)
        return 2
    except OperationalError as exc:
        _store_unreachable(exc, f"\n{refusal}")
        return 1
    try:
        shared = storage.check_here()
    except storage.StorageError as exc:
        print(f"{exc}\n{refusal}", file=sys.stderr)
        return 2
    except httpx.HTTPError as exc:
        print(
            f"Prefect サーバー（PREFECT_API_URL）に接続できません: {exc}\n{refusal}",
            file=sys.stderr,
        )
        return 1
    if shared is None:
        print(
            "警告: Prefect サーバーに結果の保存先が登録されていません（jukinet result-storage）。"
            "このマシンのフォルダに保存するため、一時停止した実行はこのマシンのワーカーでしか再開できません。",
            file=sys.stderr,
        )
    prefect = Path(sys.executable).with_name("prefect")
    argv = [str(prefect), "worker", "start", "--pool", "jukinet", "--type", "process"]
    os.execv(argv[0], argv)


DELEGATED = {"up": "jukinet.devstack", "mailbox": "jukinet.mailbox", "drill": "jukinet.drill"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jukinet", description="住基ネット緊急時対応")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check-config", help="設定ファイルを検証する").set_defaults(func=check_config)
    p = sub.add_parser("set-code", help="承認コードを設定・変更する")
    p.add_argument("person_id", help="roster.yaml の職員ID")
    p.add_argument("--stdin", action="store_true", help="標準入力から2行で読む（自動化用）")
    p.set_defaults(func=set_code)
    sub.add_parser("verify-audit", help="監査記録の連鎖を検証する").set_defaults(func=verify_audit)
    sub.add_parser(
        "migrate", help="記録の保管庫のスキーマを作成・更新する（先にバックアップを）"
    ).set_defaults(func=migrate_store)
    p = sub.add_parser("export-audit", help="事案の監査記録（経過記録）を出力する")
    p.add_argument("number", metavar="INCIDENT_NUMBER", help="事案番号（例 令和8年度-001）")
    p.add_argument(
        "--format", choices=["jsonl", "md", "html"], default="md", help="出力形式（既定 md）"
    )
    p.add_argument("--out", type=Path, metavar="PATH", help="書き出すファイル（既定 標準出力）")
    p.add_argument(
        "--upto",
        type=int,
        metavar="SEQ",
        help="監査記録の通番 SEQ までで出力する（終結時の写しとの照合用）",
    )
    p.set_defaults(func=export_audit)
    p = sub.add_parser("backup", help="ストアと Prefect のデータベースをバックアップする")
    p.add_argument(
        "--to", type=Path, required=True, metavar="DIR", help="バックアップのフォルダを作る場所"
    )
    p.set_defaults(func=backup_databases)
    p = sub.add_parser("restore", help="バックアップから復元し、監査記録の連鎖を検証する")
    p.add_argument("folder", type=Path, metavar="FOLDER", help="jukinet-backup-… のフォルダ")
    p.add_argument("--yes", action="store_true", help="復元先の内容を置き換えることを承知する")
    p.set_defaults(func=restore_databases)
    p = sub.add_parser(
        "result-storage", help="フロー実行の結果の共有フォルダを Prefect サーバーに登録する"
    )
    p.add_argument("path", nargs="?", type=Path, help="フォルダ（既定 PREFECT_LOCAL_STORAGE_PATH）")
    p.set_defaults(func=result_storage)
    sub.add_parser("worker", help="設定を検証してワーカーを起動する").set_defaults(func=worker)
    p = sub.add_parser("preview", help="文書を送付せずに表示する")
    p.add_argument("document_id", nargs="?", help="文書ID（一覧は --list）")
    p.add_argument("--list", action="store_true", help="文書の登録簿を表で表示する")
    p.add_argument("--incident", metavar="NUMBER", help="事案番号（例 令和8年度-001）")
    p.add_argument("--recipient", metavar="RECIPIENT_ID", help="宛先ID（例 shiga:0）")
    p.add_argument("--drill", action="store_true", help="訓練として表示する")
    p.set_defaults(func=preview)
    sub.add_parser(
        "check-templates", help="すべての文書を見本のデータで宛先ごとに描画して確認する"
    ).set_defaults(func=check_templates)
    for name, text in (
        ("up", "製品一式を起動する（--profile production で認証・CSRF 保護あり）"),
        ("mailbox", "ローカルのメールボックス"),
        ("drill", "訓練シナリオを実行する"),
    ):
        sub.add_parser(name, help=text, add_help=False)
    raw = sys.argv[1:] if argv is None else argv
    if raw and raw[0] in DELEGATED:
        module = importlib.import_module(DELEGATED[raw[0]])
        return int(module.main(raw[1:]) or 0)
    args = parser.parse_args(raw)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
