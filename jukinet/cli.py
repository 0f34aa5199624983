"""`jukinet` command line.

jukinet check-config          validate deployments/config (or $JUKINET_CONFIG_DIR)
jukinet set-code PERSON_ID    set or change a person's approval code (asked twice, never shown)
jukinet verify-audit          verify the audit chain; names the first broken record
jukinet up                    the whole product on this machine (make up)
jukinet worker                validate configuration, then start the Prefect worker
jukinet mailbox               the local SMTP mailbox
jukinet drill SCENARIO.yaml   run a drill scenario against the running product
"""

from __future__ import annotations

import argparse
import getpass
import importlib
import os
import sys
from pathlib import Path

from ruamel.yaml import YAML

from jukinet.codes import hash_code
from jukinet.config.loader import Config, ConfigError, load_config
from jukinet.settings import load_settings

MIN_CODE_LENGTH = 4


def _config(refusal: str | None = None) -> Config | None:
    """The validated configuration, or None after printing every problem in Japanese."""
    try:
        return load_config(load_settings().config_dir)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        if refusal:
            print(refusal, file=sys.stderr)
        return None


def check_config(_: argparse.Namespace) -> int:
    settings = load_settings()
    cfg = _config()
    if cfg is None:
        return 2
    town = cfg.town.municipality
    print(
        f"設定は正しく読み込めました: {town.name}（{town.code}）"
        f" 職員 {len(cfg.roster.people)} 名、連絡先 {sum(len(v) for v in cfg.contacts.bodies.values())} 件"
        f"、訓練時の宛先 {len(cfg.drill.recipients)} 件（{settings.config_dir}）"
    )
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


def set_code(args: argparse.Namespace) -> int:
    path = load_settings().config_dir / "roster.yaml"
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
    from jukinet.store.db import make_engine
    from jukinet.store.store import Store

    settings = load_settings()
    cfg = _config()
    if cfg is None:
        return 2
    store = Store(make_engine(settings.store_url), cfg.town.municipality.code)
    report = store.verify_chain()
    if report.ok:
        print(f"監査記録の連鎖は正常です（{report.records} 件）。")
        return 0
    print(f"監査記録の連鎖が壊れています: {report.problem}", file=sys.stderr)
    return 1


def worker(_: argparse.Namespace) -> int:
    if _config("設定に誤りがあるため、ワーカーを起動しません。") is None:
        return 2
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
    sub.add_parser("worker", help="設定を検証してワーカーを起動する").set_defaults(func=worker)
    for name, text in (
        ("up", "製品一式を起動する"),
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
