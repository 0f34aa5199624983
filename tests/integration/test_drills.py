"""Every drill scenario in scenarios/ runs as scripted against the real stack (`jukinet drill`).

All selected scenarios are started at once against the session's one stack, a few at a time
(JUKINET_DRILL_CONCURRENCY, default 4; 1 runs them one after the other): each step costs a new
flow-run process (~5 s of a 2-CPU machine), so the whole file takes about 5 s per step of all the
scenarios together, side by side or not. Each drill drives its own incident, found by its number,
so the others do not disturb it; its time limit grows with its steps, as it shares the machine with
the other drills (a chapter-3 scenario has up to twenty steps).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from jukinet.drill import ScenarioError, load_scenario, main
from jukinet.settings import PROJECT_ROOT
from tests.integration.conftest import Stack

SCENARIOS = sorted((PROJECT_ROOT / "scenarios").glob("*.yaml"))
CONCURRENCY = int(os.environ.get("JUKINET_DRILL_CONCURRENCY", "4"))
START_SECONDS = 120  # the first run, the chapter's run and the checks
STEP_SECONDS = 40  # one answered step while CONCURRENCY drills share the machine (~20 s seen)


def drill_timeout(path: Path) -> float:
    """The drill's time limit: a fixed part and a part per answer of the scenario."""
    try:
        steps = len(load_scenario(path).steps)
    except ScenarioError:
        steps = 0  # the drill itself reports the scenario's problem at once
    return START_SECONDS + STEP_SECONDS * steps


@dataclass(frozen=True)
class Outcome:
    code: int
    output: str


def drill(stack: Stack, path: Path) -> Outcome:
    """`jukinet drill PATH --api …` in this process, its output collected."""
    out = io.StringIO()
    argv = [str(path), "--api", stack.api_url, "--timeout", str(drill_timeout(path))]
    code = main(argv, stdout=out, stderr=out)
    return Outcome(code, out.getvalue())


def variant(source: str, target: Path, change: Any) -> Path:
    """A copy of scenarios/<source>.yaml with `change(data)` applied."""
    yaml = YAML()
    data = yaml.load((PROJECT_ROOT / "scenarios" / f"{source}.yaml").read_text(encoding="utf-8"))
    change(data)
    with target.open("w", encoding="utf-8") as fh:
        yaml.dump(data, fh)
    return target


@pytest.fixture(scope="module")
def drills(stack: Stack, request: pytest.FixtureRequest) -> Iterator[dict[str, Future[Outcome]]]:
    """The selected scenarios, started side by side on first use."""
    selected = [
        Path(str(item.callspec.params["path"]))
        for item in request.session.items
        if isinstance(item, pytest.Function)
        and item.originalname == "test_scenario_runs_as_scripted"
    ]
    with ThreadPoolExecutor(max(1, CONCURRENCY), thread_name_prefix="drill") as pool:
        yield {path.stem: pool.submit(drill, stack, path) for path in selected}


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_runs_as_scripted(drills: dict[str, Future[Outcome]], path: Path) -> None:
    outcome = drills[path.stem].result(timeout=sum(drill_timeout(p) for p in SCENARIOS))
    assert outcome.code == 0, outcome.output
    assert "  NG  " not in outcome.output
    assert "合格: 事案" in outcome.output


def test_a_step_without_an_answer_names_its_clause(stack: Stack, tmp_path: Path) -> None:
    def only_classification(data: Any) -> None:
        del data["手順"][1:]

    outcome = drill(
        stack, variant("a-short-outage", tmp_path / "missing.yaml", only_classification)
    )
    assert outcome.code == 1, outcome.output
    assert "条項 C2.S1.1 の回答がシナリオにありません" in outcome.output


def test_a_wrong_expectation_fails_the_drill(stack: Stack, tmp_path: Path) -> None:
    def expect_a_mayor_report(data: Any) -> None:
        data["期待"]["通知"].append({"宛先": "町長", "文書": "mayor_report"})

    outcome = drill(
        stack, variant("k-level1-lifted", tmp_path / "wrong.yaml", expect_a_mayor_report)
    )
    assert outcome.code == 1, outcome.output
    assert "NG  通知 mayor_report → 町長" in outcome.output
    assert "OK  最終状態 解除（レベル1）" in outcome.output


def test_every_drill_notice_is_in_the_mailbox_once_and_the_chain_verifies(
    drills: dict[str, Future[Outcome]], stack: Stack
) -> None:
    """After all the drills: each notice the store calls sent arrived in the mailbox exactly once
    (by the key its Message-ID is derived from), nothing is left unsent, and the audit chain of the
    whole store verifies."""
    outputs = [
        f.result(timeout=sum(drill_timeout(p) for p in SCENARIOS)).output for f in drills.values()
    ]
    numbers = {m for out in outputs for m in re.findall(r"事案番号 (\S+)", out)}
    assert len(numbers) == len(drills)
    from jukinet.drill.runner import Records

    store = Records().store
    notices = [n for number in numbers for n in store.notices(store.incident(number).id)]
    assert notices and all(n.status == "sent" for n in notices)
    arrived = Counter(str(m["X-Jukinet-Notice"]) for m in stack.mailbox.messages())
    for n in notices:
        digest = hashlib.sha256(f"{n.municipality_code}|{n.key}".encode()).hexdigest()[:32]
        assert arrived[digest] == 1, (n.key, arrived[digest])
    assert store.verify_chain().ok
    # every document of the register is produced by some drill, except the alarm about an
    # undelivered notice, which needs a channel down (tests/flows/test_resend.py), and the
    # reminder, which needs a step left unanswered (tests/flows/test_escalation.py)
    from jukinet.notices.documents import DOCUMENTS

    produced = {n.document for n in notices}
    assert set(DOCUMENTS) - produced <= {"undelivered_alarm", "answer_reminder"}
