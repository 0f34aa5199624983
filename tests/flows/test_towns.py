"""Two municipalities in one installation, their emergencies running at the same time: each run,
form, notice and record stays with its own town, and one town's staff cannot answer the other's
step."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect import get_client
from ruamel.yaml import YAML

from flows.emergency import Mode, emergency_response
from flows.runtime import reset_runtime, runtime, towns
from jukinet.config.synthetic import make_town, surname
from jukinet.forms.chapter1 import DiscoveryReport
from jukinet.mailbox import Mailbox
from jukinet.store.models import Answer, utcnow
from tests.conftest import CODES, restore_environ
from tests.flows import scenarios as s
from tests.flows.conftest import Driver, answer_short_outage, start

TAGA, HIKONE = "254436", "252026"
NAMES = {TAGA: "多賀町", HIKONE: "彦根市"}


class TownDriver(Driver):
    """Answers one town's steps: its runs are named after the town, its staff are the example's
    people under the town's surname (jukinet/config/synthetic.py), with the same codes."""

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code
        self.name_filter = NAMES[code]

    def label(self, example_label: str) -> str:
        name, _, rest = example_label.partition("（")
        return f"{surname(NAMES[self.code])} {name.split(' ')[-1]}（{rest}"

    def answer(self, key: str, answerer: str, **values: Any) -> Any:
        values.setdefault("code", CODES.get(answerer))
        return super().answer(key, self.label(answerer), **values)


@pytest.fixture
def two_towns(product: Path) -> Iterator[Path]:
    """多賀町 and 彦根市 configured side by side (the flow tests' mailbox and fast retries)."""
    root = product / "towns"
    if not root.exists():
        root.mkdir()
        single = Path(os.environ["JUKINET_CONFIG_DIR"])
        make_town(single, root / TAGA, TAGA, NAMES[TAGA])
        make_town(single, root / HIKONE, HIKONE, NAMES[HIKONE])
        yaml = YAML()
        town_path = root / HIKONE / "town.yaml"
        town = yaml.load(town_path.read_text(encoding="utf-8"))
        town.pop("residents", None)  # the registry is 多賀町's
        with town_path.open("w", encoding="utf-8") as fh:
            yaml.dump(town, fh)
    saved = {"JUKINET_CONFIG_DIR": os.environ.get("JUKINET_CONFIG_DIR")}
    os.environ["JUKINET_CONFIG_DIR"] = str(root)
    reset_runtime()
    yield root
    restore_environ(saved)
    reset_runtime()


def test_two_towns_concurrent_emergencies_stay_apart(two_towns: Path, mailbox: Mailbox) -> None:
    assert sorted(towns()) == [HIKONE, TAGA]
    drivers = {code: TownDriver(code) for code in (TAGA, HIKONE)}
    runs = {
        code: start(
            emergency_response,
            DiscoveryReport(**s.declaration()),
            Mode.REAL,
            municipality_code=code,
        )
        for code in (TAGA, HIKONE)
    }
    first = {code: drivers[code].paused("C1.2#1") for code in runs}
    numbers = {code: run.name.split(" ")[1] for code, run in first.items()}
    for code, paused in first.items():
        assert paused.name.startswith(f"{NAMES[code]} {numbers[code]} 第1章")
        assert f"団体:{code}" in paused.tags

    # 彦根市's staff member is not among 多賀町's answerers: the server refuses the answer
    hikone_operator = drivers[HIKONE].label(s.OPERATOR)
    with get_client(sync_client=True) as client:
        refused = client.resume_flow_run(
            first[TAGA].id,
            run_input={
                "answerer": hikone_operator,
                "approval_code": CODES[s.OPERATOR],
                "emergency_class": "障害",
                "reason": "CS の機器故障",
            },
        )
    assert refused.status.value == "REJECT", refused.details

    for code, driver in drivers.items():
        driver.answer("C1.2#1", s.OPERATOR, emergency_class="障害", reason="CS の機器故障")
        driver.name_filter = f"{NAMES[code]} {numbers[code]}"
    for driver in drivers.values():
        answer_short_outage(driver)
    for code, run in runs.items():
        assert run.join() == numbers[code]

    assert numbers[HIKONE] == "令和8年度-001"  # its own number series
    for code in (TAGA, HIKONE):
        other = HIKONE if code == TAGA else TAGA
        rt = runtime(code)
        incident = rt.store.incident(numbers[code])
        assert incident.municipality_code == code and incident.state == "終結"
        records = rt.store.audit_records(incident.id)
        assert rt.store.verify_chain().ok
        actors = {r.actor for r in records if r.kind in ("回答", "区分確認")} - {"システム"}
        staff = {p.name for p in rt.config.roster.people}
        assert actors and all(any(name in actor for name in staff) for actor in actors), actors
        notices = rt.store.notices(incident.id)
        assert notices and all(n.status == "sent" for n in notices)
        assert not any(f"m{other}.example" in n.address for n in notices)
        assert all(NAMES[code] in n.body for n in notices)
        if code == HIKONE:  # 多賀町 lists 彦根市 among its neighbours, not the reverse
            assert not any("多賀町" in n.body for n in notices), "another town in a notice"
        # the other town's store does not see this incident, its answers or its steps
        theirs = runtime(other).store
        assert theirs.step_result(incident.id, "C1.1.report") is None
        assert theirs.answer(incident.id, "C1.2#1") is None
        with pytest.raises(LookupError):
            theirs.incident_by_id(incident.id)
        with pytest.raises(LookupError):
            theirs.record_answer(
                Answer(
                    incident_id=incident.id,
                    ask_key="C1.2#9",
                    clause="C1.2",
                    accepted=True,
                    answerer="試験",
                    payload={},
                    recorded_at=utcnow(),
                )
            )
    hikone_mail = [m for m in mailbox.messages() if "m252026.example" in str(m["To"])]
    assert hikone_mail and all("彦根市" in m.get_content() for m in hikone_mail)


def test_with_several_towns_a_run_without_a_code_fails_and_records_nothing(
    two_towns: Path,
) -> None:
    before = {code: len(runtime(code).store.audit_records()) for code in (TAGA, HIKONE)}
    run = start(emergency_response, DiscoveryReport(**s.declaration()), Mode.DRILL)
    with pytest.raises(LookupError, match="団体コード"):
        run.join()
    after = {code: len(runtime(code).store.audit_records()) for code in (TAGA, HIKONE)}
    assert after == before
