"""API key material: generation, parsing the public prefix, and the digest check."""

from __future__ import annotations

import hashlib

import pytest

from agenthost.tenancy import keys


def test_a_generated_key_parses_and_matches_its_digest() -> None:
    new = keys.generate()
    assert new.plaintext.startswith(f"ahk_{new.prefix}_")
    assert keys.prefix_of(new.plaintext) == new.prefix
    assert len(new.prefix) == 2 * keys.PREFIX_BYTES
    assert new.digest == hashlib.sha256(new.plaintext.encode()).hexdigest()
    assert new.plaintext not in new.digest
    assert keys.matches(new.plaintext, new.digest)


def test_generated_keys_differ() -> None:
    first, second = keys.generate(), keys.generate()
    assert first.prefix != second.prefix
    assert first.plaintext != second.plaintext
    assert first.digest != second.digest


def test_another_key_does_not_match() -> None:
    first, second = keys.generate(), keys.generate()
    assert not keys.matches(second.plaintext, first.digest)
    assert not keys.matches(first.plaintext + "x", first.digest)


def test_no_stored_digest_never_matches() -> None:
    new = keys.generate()
    assert not keys.matches(new.plaintext, None)
    # Not even the plaintext whose digest is the placeholder compared against.
    assert not keys.matches("no such key", None)


@pytest.mark.parametrize(
    "presented",
    [
        "",
        "ahk",
        "ahk_",
        "ahk__secret",
        "xyz_0123456789ab_secret",  # wrong tag
        "AHK_0123456789ab_secret",  # the tag is case-sensitive
        "ahk_0123456789a_secret",  # prefix one character short
        "ahk_0123456789abc_secret",  # prefix one character long
        "ahk_0123456789ab_",  # empty secret
        "ahk_0123456789ab",  # no secret at all
        "ahk_0123456789ab_sécret",  # non-ascii
        "ahk_0123456789ab_secret\u2028",  # non-ascii separator
        "Bearer ahk_0123456789ab_secret",
    ],
)
def test_malformed_keys_have_no_prefix(presented: str) -> None:
    assert keys.prefix_of(presented) is None


def test_the_secret_may_itself_contain_underscores() -> None:
    assert keys.prefix_of("ahk_0123456789ab_se_cr_et") == "0123456789ab"
