"""The map from plan to code: every action clause is implemented, and named by a test.

The clause index is read from docs/plan/ (a copy of ../shared/plan/, so a clean clone has it).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from jukinet.settings import PROJECT_ROOT

PLAN_DIR = PROJECT_ROOT / "docs" / "plan"
CLAUSES_MD = PLAN_DIR / "clauses.md"
SHARED_PLAN = PROJECT_ROOT.parent / "shared" / "plan"
CODE_DIRS = ("flows", "tasks", "jukinet", "templates")
CODE_SUFFIXES = (".py", ".j2")

# Chapters 1 to 3: the clauses that describe something the town does.
ACTION_CLAUSES = (
    "C1.2",
    "C1.2.FAILURE",
    "C1.2.UNAUTHORIZED",
    "C2.1",
    "C2.S1.1",
    "C2.S1.2",
    "C2.S1.3",
    "C2.S2.1",
    "C2.S2.2",
    "C2.S3.1",
    "C2.S3.2",
    "C2.S3.3",
    *(f"C2.S3.D{i}" for i in range(1, 9)),
    "C2.S4",
    "C2.S5",
    "C2.S5.MEETING",
    "C2.3",
    "C2.3.T1",
    "C2.3.T2",
    "C2.3.O1",
    "C2.3.O2",
    "C2.3.O3",
    "C2.3.O4",
    "C3.A",
    "C3.A.L1",
    "C3.A.L2",
    "C3.A.L3",
    "C3.S1.1",
    "C3.S1.2",
    "C3.S1.3",
    "C3.S1.4",
    "C3.S2",
    "C3.S2.1",
    "C3.S2.2",
    "C3.S2.3",
    "C3.S2.4",
    "C3.S3",
    "C3.S3.1",
    "C3.S3.2",
    "C3.S3.3",
    "C3.S3.4",
    "C3.S4.1",
    "C3.S4.2",
    "C3.S4.3",
    *(f"C3.S4.D{i}" for i in range(1, 10)),
    "C3.S5",
    "C3.S6.1",
    "C3.S6.2",
    "C3.S6.3",
    "C3.S6.4",
    "C3.2",
)


def clause_ids(markdown: str) -> list[str]:
    """Every `C…` ID written in backticks, in the index's order."""
    found = re.findall(r"`(C\d+(?:\.[A-Z0-9]+)*)`", markdown)
    return list(dict.fromkeys(found))


def mention(clause: str) -> re.Pattern[str]:
    """`C2.S3` alone, not as the start of `C2.S3.1` nor the end of `XC2.S3`."""
    return re.compile(rf"(?<![A-Za-z0-9_.]){re.escape(clause)}(?![A-Za-z0-9_]|\.[A-Za-z0-9])")


@cache
def text_of(*directories: str, suffixes: tuple[str, ...], skip: str = "") -> str:
    parts = []
    for directory in directories:
        for path in sorted((PROJECT_ROOT / directory).rglob("*")):
            if path.suffix in suffixes and path.is_file() and path.name != skip:
                parts.append(path.read_text(encoding="utf-8"))
    return "\n".join(parts)


def missing_from(text: str) -> list[str]:
    return [c for c in ACTION_CLAUSES if not mention(c).search(text)]


class TestIndex:
    def test_copied_into_the_repository(self) -> None:
        assert CLAUSES_MD.is_file()
        assert (PLAN_DIR / "taga-jukinet-emergency-plan.txt").is_file()

    @pytest.mark.skipif(not SHARED_PLAN.is_dir(), reason="../shared/plan is absent (clean clone)")
    @pytest.mark.parametrize("name", ["clauses.md", "taga-jukinet-emergency-plan.txt"])
    def test_copy_matches_the_shared_plan(self, name: str) -> None:
        assert (PLAN_DIR / name).read_bytes() == (SHARED_PLAN / name).read_bytes()

    def test_parses_every_clause(self) -> None:
        ids = clause_ids(CLAUSES_MD.read_text(encoding="utf-8"))
        assert ids.index("C1.1") < ids.index("C1.2") < ids.index("C1.2.FAILURE") < ids.index("C2.1")
        assert {"C2.S3.D8", "C3.A.L3", "C3.S4.D9", "C3.S6.4", "C3.2"} <= set(ids)
        assert len(ids) == len(set(ids))

    def test_action_clauses_are_in_the_index(self) -> None:
        ids = set(clause_ids(CLAUSES_MD.read_text(encoding="utf-8")))
        assert set(ACTION_CLAUSES) - ids == set()

    def test_mention_is_exact(self) -> None:
        assert mention("C2.S3").search("手順3 (C2.S3)")
        assert mention("C2.S3").search("C2.S3.")
        assert not mention("C2.S3").search("C2.S3.1")
        assert not mention("C2.3").search("C2.3.T1")
        assert not mention("C2.S3.D1").search("C2.S3.D10")
        assert mention("C2.3").search("再発防止策（C2.3）")


def test_every_action_clause_is_implemented() -> None:
    code = text_of(*CODE_DIRS, suffixes=CODE_SUFFIXES)
    assert missing_from(code) == []


def test_every_action_clause_is_named_by_a_test() -> None:
    tests = text_of("tests", suffixes=(".py",), skip=Path(__file__).name)
    assert missing_from(tests) == []
