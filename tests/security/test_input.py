import pytest
from hypothesis import given
from hypothesis import strategies as st

from agenthost.errors import ValidationFailed
from agenthost.security.input import clean_input, strip_control


def test_text_and_code_are_not_escaped() -> None:
    text = "if a < b && c > d: print('<b>&amp;</b>')\n\tdone"
    assert clean_input(text, max_chars=1000) == text


def test_control_characters_are_stripped_but_newline_and_tab_kept() -> None:
    assert strip_control("a\x00b\x1bc\x7fd\ne\tf\rg\x85") == "abcd\ne\tfg"


def test_too_long_and_empty_are_rejected_naming_the_field() -> None:
    with pytest.raises(ValidationFailed, match="input: at most 5"):
        clean_input("abcdef", max_chars=5)
    with pytest.raises(ValidationFailed, match="input: must not be empty"):
        clean_input("\x00\x01 ", max_chars=5)


@given(st.text())
def test_cleaning_is_idempotent_and_leaves_no_controls(text: str) -> None:
    once = strip_control(text)
    assert strip_control(once) == once
    assert all(ch in "\n\t" or not (ord(ch) < 32 or 127 <= ord(ch) < 160) for ch in once)
