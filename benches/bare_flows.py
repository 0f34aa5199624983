"""The yardsticks: the smallest flows that do what the product does at the measured points.

Deployed by the benchmarks to the product's own work pool (same worker, same server), with
`flow.from_source(<project root>, "benches/bare_flows.py:<flow>").deploy(...)`:

    bare_mail      one task that sends one e-mail with smtplib        (benches/first_notice.py)
    bare_suspend   suspends once for a tiny answer, then one task      (benches/resume_latency.py)

Nothing here imports the product, so a run pays only for Prefect itself.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from prefect import flow, suspend_flow_run, task
from pydantic import BaseModel, Field

BARE_MAIL = "bench-bare-mail"
BARE_SUSPEND = "bench-bare-suspend"
SUSPEND_KEY = "bench-answer"
STEP_TASK = "bare step"


class TinyAnswer(BaseModel):
    ok: bool = Field(default=True, title="OK")


@task(name="bare mail")
def send_mail(host: str, port: int, marker: str) -> None:
    msg = EmailMessage()
    msg["From"] = "bench@town.taga.example"
    msg["To"] = "bench@example.org"
    msg["Subject"] = f"bench {marker}"
    msg.set_content(f"benchmark mail {marker}\n")
    with smtplib.SMTP(host, port, timeout=10) as smtp:
        smtp.send_message(msg)


@flow(name=BARE_MAIL)
def bare_mail(host: str, port: int, marker: str) -> None:
    send_mail(host, port, marker)


@task(name=STEP_TASK)
def bare_step(ok: bool) -> bool:
    return ok


@flow(name=BARE_SUSPEND)
def bare_suspend() -> bool:
    answer = suspend_flow_run(wait_for_input=TinyAnswer, key=SUSPEND_KEY, timeout=None)
    return bare_step(answer.ok)
