"""Outbox throughput: notices prepared (rendered, numbered, archived) and delivered per second,
by channel, against real local servers, next to a bare SMTP send of the same text.

    python -m benches.outbox [--notices 200] [--store sqlite|postgresql]

Channels measured: e-mail (aiosmtpd mailbox in this process), webhook (a local HTTP server that
accepts every POST), archive. The baseline is `smtplib` sending the same rendered message once
per notice without the store (what the outbox adds: the rows, the claim, the record of delivery).
"""

from __future__ import annotations

import argparse
import json
import smtplib
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from jukinet.config.loader import load_config
from jukinet.mailbox import Mailbox
from jukinet.notices.documents import DOCUMENTS
from jukinet.notices.outbox import NoticeRequest, Outbox, deliver, prepare
from jukinet.notices.recipients import for_body
from jukinet.notices.render import make_environment
from jukinet.notices.samples import sample_data
from jukinet.notices.smtp import build_message
from jukinet.plan import Body
from jukinet.settings import PROJECT_ROOT
from jukinet.store.db import make_engine
from jukinet.store.store import Store
from tests.conftest import copy_config


@contextmanager
def accepting_server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/notices"
    finally:
        server.shutdown()


def _box(work: Path, smtp_port: int, hook_url: str, store_url: str) -> Outbox:
    config_dir = copy_config(work / "config", smtp_port)
    yaml = YAML()
    path = config_dir / "contacts.yaml"
    contacts = yaml.load(path.read_text(encoding="utf-8"))
    contacts["bodies"]["vendor"][0].update(
        channels=["email", "webhook", "archive"], webhook={"url": hook_url}
    )
    with path.open("w", encoding="utf-8") as fh:
        yaml.dump(contacts, fh)
    config = load_config(config_dir)
    return Outbox(
        Store(make_engine(store_url), "254436"),
        config,
        make_environment(PROJECT_ROOT / "templates"),
        work / "archive",
    )


def run(notices: int, store_url: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, Mailbox(Path(tmp) / "mail") as mailbox:
        work = Path(tmp)
        with accepting_server() as hook:
            box = _box(work, mailbox.port, hook, store_url or f"sqlite:///{work / 's.sqlite3'}")
            incident = box.store.open_incident(
                origin_key=str(uuid.uuid4()),
                drill=False,
                declared_class="障害",
                summary="計測",
                declaration={},
            )
            (vendor,) = for_body(box.config, Body.VENDOR)
            doc = DOCUMENTS["maintenance_request"]
            data = sample_data(doc.id)
            prep: list[float] = []
            by_channel: dict[str, list[float]] = {"email": [], "webhook": [], "archive": []}
            for i in range(notices):
                req = NoticeRequest(doc.clauses[0], doc, vendor, "計測", data, key_suffix=f"#{i}")
                t0 = time.perf_counter()
                rows = prepare(box, incident, req)
                prep.append(time.perf_counter() - t0)
                for row in rows:
                    t1 = time.perf_counter()
                    deliver(box, row)
                    by_channel[row.channel].append(time.perf_counter() - t1)
            smtp = box.config.town.smtp
            message = build_message(
                smtp, key="bare", to=("a@x.example",), subject=doc.subject, body=rows[0].body
            ).message
            bare: list[float] = []
            for _ in range(notices):
                t2 = time.perf_counter()
                with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as client:
                    client.send_message(message)
                bare.append(time.perf_counter() - t2)
            box.store.engine.dispose()

    def ms(values: list[float]) -> dict[str, float]:
        ordered = sorted(values)
        return {
            "median_ms": round(statistics.median(values) * 1000, 2),
            "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 2),
        }

    return {
        "notices": notices,
        "store": "postgresql" if store_url else "sqlite",
        "prepare": ms(prep),
        **{f"deliver_{k}": ms(v) for k, v in by_channel.items()},
        "bare_smtp_send": ms(bare),
        "email_vs_bare": round(statistics.median(by_channel["email"]) / statistics.median(bare), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=200)
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    if args.store == "postgresql":
        from tests.postgres import running_postgres

        with running_postgres() as url:
            result = run(args.notices, url)
    else:
        result = run(args.notices, None)
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
