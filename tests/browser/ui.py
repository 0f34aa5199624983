"""Prefect 3.9.1's V2 UI as a clerk uses it, in Debian's chromium (Playwright, no browser download).

    ui = Ui(page, "http://127.0.0.1:4200", shots)
    run_id = ui.start_run(deployment_id, schema, {"発見報告": {...}, "実施区分": "訓練"}, "発見報告")
    ui.resume(run_id, schema, {"回答者": "犬上 一郎（住民課）", "承認コード": "1111", ...}, "C1.2")

Every field is found by its Japanese label (`label[data-slot=label]`, "(Optional)" appended to
fields with a default) and filled through its widget as a mouse and keyboard would: select boxes
(a listbox button, then the option), lists of choices (badges, removed by "Remove … tag"), the date
picker (typed as yyyy-MM-dd), switches, text areas, the masked approval code, nested cards and lists
of records ("Add item"). The values are the drill scenarios' (titles as keys, `jukinet/drill`).
The V1 UI, which the notes in ../shared measured, has other markup; links and tests use /v2.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, Response, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from jukinet.drill.schema import full_choice, resolve

CHROMIUM = "/usr/bin/chromium"
# The dialog closes once the UI has its answer and has re-read the run; on a loaded 2-core machine
# (the workers' stack beside it) that took more than Playwright's default 5 s.
DIALOG_CLOSE_MS = 30_000
# An element that keeps moving (a dialog re-centring after the window grew, on a loaded machine)
# is shot with the whole page instead: a screenshot is a record, not something the test checks
SHOT_MS = 10_000
CHROMIUM_ARGS = [  # without the networking flags chromium keeps calling outside hosts
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PROPERTY = (  # the property's box: its label, description and widget
    "xpath=ancestor::div[contains(concat(' ', normalize-space(@class), ' '), ' group ')][1]"
)
OPTIONAL = " (Optional)"


def field(scope: Locator | Page, title: str) -> Locator:
    """The form property labelled `title` (or `title (Optional)`) inside `scope`."""
    label = scope.locator("label[data-slot=label]").filter(
        has_text=re.compile(f"^{re.escape(title)}(?:{re.escape(OPTIONAL)})?$")
    )
    return label.locator(PROPERTY).first


def choose(page: Page, prop: Locator, *choices: str) -> None:
    """Pick `choices` in the property's select box (one, or several for a list of choices)."""
    trigger = prop.locator("fieldset button[aria-haspopup=listbox]").first
    for choice in choices:
        if trigger.get_attribute("aria-expanded") != "true":
            trigger.click()
        page.get_by_role("option", name=choice, exact=True).click()
    if trigger.get_attribute("aria-expanded") == "true":
        page.keyboard.press("Escape")


def choose_exactly(page: Page, prop: Locator, wanted: list[str]) -> None:
    """A list of choices (its badges) made exactly `wanted`: what a form was given in advance
    and is not wanted is removed, what is missing is picked."""
    shown = [str(b.get_attribute("title")) for b in prop.locator("[data-slot=badge]").all()]
    for choice in shown:
        if choice not in wanted:
            prop.get_by_role("button", name=f"Remove {choice} tag").click()
    choose(page, prop, *(c for c in wanted if c not in shown))


def fill_rows(
    page: Page,
    prop: Locator,
    items: Mapping[str, Any],
    root: Mapping[str, Any],
    rows: list[Mapping[str, Any]],
) -> None:
    """A list of records (e.g. 恒久対策): "Add item" until there are enough, then each row's
    fields (a row is the box beside its "Drag to reorder" handle)."""
    handles = prop.locator("[aria-roledescription=sortable]")
    assert handles.count() <= len(rows), "記入済みの行が多すぎます"
    while handles.count() < len(rows):
        prop.get_by_role("button", name="Add item").last.click()
    for i, values in enumerate(rows):
        fill_object(page, handles.nth(i).locator("xpath=.."), items, root, values)


def set_date(page: Page, prop: Locator, day: date) -> None:
    """The date picker: open it, type the day (yyyy-MM-dd), Enter."""
    prop.locator("button[data-slot=popover-trigger]").first.click()
    box = page.get_by_label("Date (yyyy-MM-dd)")
    box.fill(day.isoformat())
    box.press("Enter")
    page.keyboard.press("Escape")


def set_switch(prop: Locator, on: bool) -> None:
    switch = prop.locator("[role=switch]").first
    if (switch.get_attribute("aria-checked") == "true") != on:
        switch.click()


def fill_value(
    page: Page,
    prop: Locator,
    node: Mapping[str, Any],
    root: Mapping[str, Any],
    value: Any,
    where: str,
) -> None:
    """One property's value through its widget (`node` is its schema; `where` names it).
    A choice may be written by its leading part, as in the drill files (`レベル3-(2)`)."""
    node = resolve(node, root)
    kind = node.get("type")
    items = resolve(node.get("items") or {}, root)
    if "enum" in node:
        choose(page, prop, full_choice(node["enum"], str(value), where))
    elif kind == "array" and "enum" in items:
        choose_exactly(page, prop, [full_choice(items["enum"], str(v), where) for v in value])
    elif kind == "object":
        fill_object(page, prop, node, root, value)
    elif kind == "array" and items.get("type") == "object":
        fill_rows(page, prop, items, root, value)
    elif kind == "boolean":
        set_switch(prop, bool(value))
    elif node.get("format") == "date":
        set_date(page, prop, value if isinstance(value, date) else date.fromisoformat(str(value)))
    elif node.get("format") == "password":
        prop.locator("input[type=password]").first.fill(str(value))
    else:
        prop.locator("textarea, input").first.fill(str(value))


def fill_object(
    page: Page,
    scope: Locator | Page,
    schema: Mapping[str, Any],
    root: Mapping[str, Any],
    values: Mapping[str, Any],
) -> None:
    """Each titled value of `values` into the property of that title inside `scope`."""
    props = schema.get("properties") or {}
    by_title = {
        str(p.get("title") or resolve(p, root).get("title") or n): p for n, p in props.items()
    }
    for title, value in values.items():
        assert title in by_title, (
            f"「{title}」という項目はフォームにありません（項目: {'、'.join(by_title)}）"
        )
        fill_value(page, field(scope, title), by_title[title], root, value, title)


BUSY_ATTEMPTS = 5
MAX_HEIGHT = 8000
HIDDEN_HEIGHT = """element => Math.max(0, ...[element, ...element.querySelectorAll('*')]
    .filter(e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowY))
    .map(e => e.scrollHeight - e.clientHeight))"""


class Ui:
    """Prefect's V2 UI (what its root opens, `/v2`) at `base`; screenshots go to `shots`."""

    def __init__(self, page: Page, base: str, shots: Path) -> None:
        self.page = page
        self.base = base.rstrip("/")
        self.shots = shots
        self.count = 0
        self.busy: list[str] = []  # the forms sent again after a busy answer
        self.menu_shown = False

    def url(self, path: str) -> str:
        return f"{self.base}/v2{path}"

    def shot(self, name: str, full_page: bool = True) -> Path:
        """A screenshot `NN-name.png`, numbered in the order taken (the window only, or the
        whole page)."""
        self.count += 1
        path = self.shots / f"{self.count:02d}-{name}.png"
        self.page.screenshot(path=path, full_page=full_page)
        return path

    def shot_whole(self, name: str, element: Locator) -> Path:
        """A screenshot of `element` with nothing scrolled away: the window grows until the
        element's scrolling boxes fit (a long resume form), then shrinks back."""
        page = self.page
        size = page.viewport_size or {"width": 1400, "height": 1000}
        height = size["height"]
        for _ in range(4):
            hidden = int(element.evaluate(HIDDEN_HEIGHT))
            if hidden <= 2 or height >= MAX_HEIGHT:
                break
            height = min(MAX_HEIGHT, height + int(hidden * 1.25) + 40)
            page.set_viewport_size({"width": size["width"], "height": height})
        self.count += 1
        path = self.shots / f"{self.count:02d}-{name}.png"
        try:
            element.screenshot(path=path, animations="disabled", timeout=SHOT_MS)
        except PlaywrightTimeoutError:
            page.screenshot(path=path, full_page=True, animations="disabled")
        finally:
            page.set_viewport_size(size)
        return path

    def press(self, button: Locator, sends: Callable[[Response], bool], name: str) -> Response:
        """Click `button` and return the API's answer to the request it sends. A busy answer
        (503: SQLite is busy, which the UI does not retry) is shown to the clerk as an error;
        the clerk presses the button again, as the test does after a screenshot of it."""
        for attempt in range(1, BUSY_ATTEMPTS + 1):
            with self.page.expect_response(sends) as answered:
                button.click()
            response = answered.value
            if response.status != 503 or attempt == BUSY_ATTEMPTS:
                break
            self.busy.append(name)
            self.shot(f"{name}-混雑のため再送信")
            self.page.wait_for_timeout(1000 * attempt)
        assert response.ok, f"{response.status} {response.text()}"
        return response

    def login(self, auth_string: str) -> None:
        """The production profile: the UI asks for the auth string before anything else."""
        page = self.page
        page.goto(self.url("/"))
        page.wait_for_url(re.compile(r"/login"))
        box = page.locator("input").first
        box.fill(auth_string)
        self.shot("ログイン")
        page.get_by_role("button", name="Login").click()
        page.wait_for_url(lambda url: "/login" not in url)

    def start_run(
        self, deployment_id: str, schema: Mapping[str, Any], values: Mapping[str, Any], name: str
    ) -> str:
        """The deployment's Run → Custom run form, filled and submitted; returns the run's id."""
        page = self.page
        page.goto(self.url(f"/deployments/deployment/{deployment_id}"))
        page.get_by_role("button", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Custom run").click()
        page.wait_for_url(re.compile(r"/run(\?.*)?$"))
        form = page.locator("form").first
        fill_object(page, form, schema, schema, values)
        self.shot(f"{name}-入力")
        created = self.press(
            page.get_by_role("button", name="Submit", exact=True),
            lambda r: r.url.endswith("/create_flow_run") and r.request.method == "POST",
            name,
        )
        run_id = str(created.json()["id"])
        self.shot(f"{name}-開始")
        page.get_by_text("View run", exact=True).click()  # in the toast
        page.wait_for_url(re.compile(f"/runs/flow-run/{run_id}"))
        self.shot(f"{name}-フロー実行")
        return run_id

    def resume(
        self,
        run_id: str,
        schema: Mapping[str, Any],
        values: Mapping[str, Any],
        name: str,
        expect_text: str | None = None,
    ) -> None:
        """The paused run's ⋮ → Resume form, filled and submitted; waits until it has closed."""
        page = self.page
        page.goto(self.url(f"/runs/flow-run/{run_id}"))
        page.get_by_role("button", name="Open menu").first.click()
        resume = page.get_by_role("menuitem", name="Resume")
        expect(resume).to_be_visible()
        if not self.menu_shown:
            self.shot(f"{name}-メニュー")
            self.menu_shown = True
        resume.click()
        dialog = page.get_by_role("dialog", name="Resume Flow Run")
        expect(dialog.get_by_text("Resume Flow Run")).to_be_visible()
        if expect_text:
            expect(dialog).to_contain_text(expect_text)
        fill_object(page, dialog, schema, schema, values)
        self.shot_whole(f"{name}-入力", dialog)
        self.press(
            dialog.get_by_role("button", name="Resume", exact=True),
            lambda r: r.url.endswith(f"/flow_runs/{run_id}/resume") and r.request.method == "POST",
            name,
        )
        expect(dialog).to_be_hidden(timeout=DIALOG_CLOSE_MS)
        self.shot(f"{name}-送信")
