"""Approval codes: salted scrypt hashes, checked in constant time, never stored in clear."""

from __future__ import annotations

import pytest

from jukinet.codes import PREFIX, hash_code, is_code_hash, verify_code


@pytest.fixture(scope="module")
def stored() -> str:
    return hash_code("4721")


class TestVerify:
    def test_right_code(self, stored: str) -> None:
        assert verify_code("4721", stored) is True

    @pytest.mark.parametrize("wrong", ["4722", "0000", "", "4721 ", "47210", "４７２１"])
    def test_wrong_code(self, stored: str, wrong: str) -> None:
        assert verify_code(wrong, stored) is False

    def test_non_ascii_code(self) -> None:
        stored = hash_code("多賀たが")
        assert verify_code("多賀たが", stored)
        assert not verify_code("多賀たか", stored)


class TestHash:
    def test_salts_differ(self) -> None:
        first, second = hash_code("4721"), hash_code("4721")
        assert first != second
        assert first.split("$")[4] != second.split("$")[4]
        assert verify_code("4721", first) and verify_code("4721", second)

    def test_same_salt_same_hash(self) -> None:
        salt = b"0123456789abcdef"
        assert hash_code("4721", salt=salt) == hash_code("4721", salt=salt)

    def test_never_equal_to_or_containing_the_clear_code(self, stored: str) -> None:
        code = "9876543210"
        h = hash_code(code)
        assert h != code
        assert code not in h
        assert "4721" not in stored

    def test_format(self, stored: str) -> None:
        assert stored.startswith(f"{PREFIX}$")
        assert len(stored.split("$")) == 6
        assert is_code_hash(stored)


class TestMalformed:
    @pytest.mark.parametrize(
        "bad",
        [
            "",
            "4721",
            "scrypt$abc",
            "bcrypt$16384$8$1$AAAA$AAAA",
            "scrypt$x$8$1$AAAA$AAAA",
            "scrypt$16384$8$1$not base64!$AAAA",
            "scrypt$16384$8$1$AAAA$AAAA$extra",
        ],
    )
    def test_refused(self, bad: str) -> None:
        assert not is_code_hash(bad)
        assert verify_code("4721", bad) is False

    def test_digest_of_another_code_refused(self, stored: str) -> None:
        other = hash_code("1234").split("$")
        mixed = "$".join([*stored.split("$")[:5], other[5]])
        assert is_code_hash(mixed)
        assert not verify_code("4721", mixed)

    @pytest.mark.parametrize(("n", "r"), [("3", "8"), ("65536", "8"), ("16384", "0")])
    def test_impossible_parameters_refused(self, stored: str, n: str, r: str) -> None:
        parts = stored.split("$")
        bad = "$".join([parts[0], n, r, parts[3], parts[4], parts[5]])
        assert verify_code("4721", bad) is False
        assert not is_code_hash(bad)
