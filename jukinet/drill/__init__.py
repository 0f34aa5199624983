"""`jukinet drill SCENARIO.yaml`: a scripted drill against the running product.

    jukinet drill scenarios/a-short-outage.yaml [--api http://127.0.0.1:4200/api] [--timeout 300]
                  [--town 252026]   (団体コード, when the installation serves several towns)

Map of the package:
  load_scenario   the YAML file → Scenario (Japanese keys: 名前, 実施区分, 開始, 発見報告 or 通報,
                  不在, 手順, 期待)
  register        不在: registers each person away through 不在の登録 before the drill (so
                  deputies may answer) and back after it (absences.py)
  fill            form field titles → property names, by the paused form's JSON schema
  Api             the few Prefect REST calls a clerk's browser makes (httpx; Prefect only for its auth setting)
  Drill           starts 第1章 緊急時対応 with the 発見報告 (開始: 緊急時対応, the default) or
                  第3章 通報受付 with the 通報 (開始: 通報受付), finds the incident number in the
                  started run's name and tags, answers each paused step with the scenario's next
                  answer for its clause, until the incident's chapter-2 or chapter-3 run completes
  check           the expectations (通知, 最終状態), read from the store like the product does

A step is matched by its clause: the part of the pause key before the first "--"
(flows/human.py `pause_key`: `<clause>--<step>--<attempt>`). A refused answer shows as the same
question asked again with the next attempt number. Exit codes: 0 every step and expectation as
scripted and every answer used, 1 the drill went otherwise (the message says where), 2 the
scenario cannot be used as written (its shape, a field title or a choice the form does not have).
"""

from jukinet.drill.api import Api, Pause, Run
from jukinet.drill.cli import main
from jukinet.drill.runner import Drill, DrillFailed, Records, check
from jukinet.drill.scenario import Scenario, ScenarioError, Step, load_scenario
from jukinet.drill.schema import fill, slug

__all__ = [
    "Api",
    "Drill",
    "DrillFailed",
    "Pause",
    "Records",
    "Run",
    "Scenario",
    "ScenarioError",
    "Step",
    "check",
    "fill",
    "load_scenario",
    "main",
    "slug",
]
