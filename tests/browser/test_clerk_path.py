"""The staff's path in a real browser: start an emergency from the deployment's run form, answer
every paused step in the resume forms (a wrong approval code and a staff member without the role
refused, then answered again), read the 経過記録 and the notices among the run's artifacts, and,
in the production profile, log in with the auth string first.

Each scenario is a drill file (scenarios/*.yaml) whose answers are typed into the forms by their
Japanese labels; what the page shows is asserted in the browser, what the run did through the API
and the store (jukinet/drill/runner.py `check`).
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from jukinet.drill.api import Api
from jukinet.drill.runner import Records, check
from jukinet.drill.scenario import Scenario, load_scenario
from jukinet.localpg import Cluster
from jukinet.settings import PROJECT_ROOT
from tests.browser.conftest import running
from tests.browser.drill import UiDrill
from tests.browser.ui import Ui
from tests.integration.test_devstack import start_stack
from tests.integration.test_production_profile import AUTH, start_production

DRILL_TIMEOUT = 1200.0


def scenario(name: str) -> Scenario:
    return load_scenario(PROJECT_ROOT / "scenarios" / name)


def drive(ui: Ui, api: Api, file: str) -> str:
    """The scenario answered through `ui`, its expectations met; the incident number."""
    said: list[str] = []
    drill = UiDrill(scenario(file), api, Records, DRILL_TIMEOUT, say=said.append, ui=ui)
    number = drill.run()
    print("\n".join(said))
    print(f"混雑（503）のため送信し直したフォーム: {ui.busy or 'なし'}")
    failed = [text for ok, text in check(drill.scenario, Records(), number) if not ok]
    assert not failed, failed
    assert not drill.unused(), [s.clause for s in drill.unused()]
    return number


def chapter_run(api: Api, number: str, chapter: str) -> str:
    (run,) = [r for r in api.tagged(number) if chapter in r.tags]
    assert run.state == "COMPLETED", run.state_name
    return run.id


def read_artifacts(ui: Ui, run_id: str, number: str, notices: list[str]) -> None:
    """The run's Artifacts tab lists the 経過記録 and the notices; each opens and reads as sent."""
    page = ui.page
    page.goto(ui.url(f"/runs/flow-run/{run_id}?tab=Artifacts"))
    journal = page.get_by_role("link").filter(has_text=f"経過記録 {number}")
    expect(journal.first).to_be_visible()
    for title in notices:
        expect(page.get_by_role("link").filter(has_text=title).first).to_be_visible()
    ui.shot("成果物の一覧")
    journal.first.click()  # one per run: kept current in place (flows/runtime.publish_journal)
    expect(page.get_by_role("heading", name=f"経過記録 {number}")).to_be_visible()
    ui.shot("経過記録", full_page=False)
    page.go_back()
    page.get_by_role("link").filter(has_text=notices[0]).first.click()
    expect(page.get_by_text(notices[0].removeprefix("通知 ")).first).to_be_visible()
    ui.shot("通知", full_page=False)


def test_chapter2_answered_in_the_browser_with_refused_answers(
    page: Page, shots: Path, tmp_path: Path
) -> None:
    with running(start_stack(tmp_path)) as stack:
        ui = Ui(page, f"http://127.0.0.1:{stack.prefect_port}", shots)
        api = Api(stack.api_url, "")
        number = drive(ui, api, "h-refused-answers.yaml")

        store = Records().store
        records = store.audit_records(store.incident(number).id)
        (opened,) = [r for r in records if r.clause == "C1.1" and r.kind == "受付"]
        # 発見時刻 typed as 10:30 in a browser in Japan is 10:30 Japan time in the record
        assert opened.details["discovered"] == "2026-11-27T10:30:00+09:00"
        assert "令和8年11月27日 10時30分（日本時間）" in opened.summary
        refused = sorted(r.clause for r in records if r.kind == "回答拒否")
        assert refused == ["C2.S1.3", "C2.S2.1"]

        run_id = chapter_run(api, number, "第2章")
        read_artifacts(
            ui,
            run_id,
            number,
            [
                "通知 【訓練】住基ネットの障害について（報告）",
                "通知 【訓練】データ保護等について（指示）",
            ],
        )
        expect(page.get_by_text("【訓練】").first).to_be_visible()


def test_level3_unauthorized_act_in_the_production_profile(
    page: Page, shots: Path, tmp_path: Path, cluster: Cluster
) -> None:
    with running(start_production(tmp_path, cluster=cluster)) as stack:
        ui = Ui(page, f"http://127.0.0.1:{stack.prefect_port}", shots)
        ui.login(AUTH)
        api = Api(stack.api_url, AUTH)
        number = drive(ui, api, "o-level3-no-stop.yaml")

        run_id = chapter_run(api, number, "第3章")
        read_artifacts(
            ui,
            run_id,
            number,
            ["通知 【訓練】住基ネットにおける不正行為について（連絡）"],
        )
