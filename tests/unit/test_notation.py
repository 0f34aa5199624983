"""The town's notation (表記) rewrites the templates' own wording, never their code or what staff
typed."""

from __future__ import annotations

from pathlib import Path

from jukinet.notices.render import apply_notation, make_environment, render

NOTATION = {"及び": "および", "又は": "または"}


def test_wording_is_rewritten_outside_template_code() -> None:
    source = '障害の特定及び原因究明{{ x | join("及び") }}{% if a %}又は{% endif %}{# 及び #}'
    assert apply_notation(source, NOTATION) == (
        '障害の特定および原因究明{{ x | join("及び") }}{% if a %}または{% endif %}{# 及び #}'
    )


def test_longest_word_wins() -> None:
    assert apply_notation("並びに及び", {"及び": "および", "並びに及び": "ならびに"}) == "ならびに"


def test_staff_text_is_left_as_typed(tmp_path: Path) -> None:
    (tmp_path / "letter.txt.j2").write_text("特定及び究明: {{ typed }}\n", encoding="utf-8")
    env = make_environment(tmp_path, NOTATION)
    text = render(env, "letter.txt.j2", {"typed": "端末及びサーバ {{ 7*7 }}"})
    assert text == "特定および究明: 端末及びサーバ {{ 7*7 }}\n"


def test_no_notation_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "letter.txt.j2").write_text("特定及び究明\n", encoding="utf-8")
    assert render(make_environment(tmp_path), "letter.txt.j2", {}) == "特定及び究明\n"
