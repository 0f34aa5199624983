"""A drill scenario (scenarios/*.yaml) answered through the UI instead of the API.

The polling, the judging of each answer (accepted, or refused and asked again) and the checks of
the outcome are the drill runner's (jukinet/drill/runner.py); only starting the incident and
answering a paused step go through the browser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jukinet.drill.api import Run
from jukinet.drill.runner import Drill
from jukinet.drill.scenario import Step
from tests.browser.ui import Ui

REFUSED_BEFORE = "前回の回答は受け付けられませんでした"


@dataclass
class UiDrill(Drill):
    ui: Ui | None = None
    refused: set[str] = field(default_factory=set)  # runs whose last answer was to be refused

    @property
    def browser(self) -> Ui:
        assert self.ui is not None
        return self.ui

    def open_incident(self, deployment: dict[str, Any], opening: dict[str, Any]) -> str:
        schema = deployment.get("parameter_openapi_schema") or {}
        return self.browser.start_run(
            str(deployment["id"]), schema, opening, self.scenario.start.block
        )

    def submit(self, run: Run, schema: dict[str, Any], step: Step) -> None:
        attempt = run.pause.attempt if run.pause else 1
        name = f"{step.clause}" + (f"-{attempt}回目" if attempt > 1 else "")
        expected = REFUSED_BEFORE if run.id in self.refused else None
        self.browser.resume(run.id, schema, step.answer, name, expect_text=expected)
        if step.expect_refusal:
            self.refused.add(run.id)
        else:
            self.refused.discard(run.id)
