"""The input policy: examples, then properties (Hypothesis) of every option."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agenthost.errors import ValidationFailed
from agenthost.security.input import InputPolicy, clean_input, clean_text, strip_control, strip_html

DEFAULT = InputPolicy()
HTML = InputPolicy(strip_html=True)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
TAG_START = re.compile(r"<[A-Za-z/!?]")


def test_text_and_code_are_not_escaped() -> None:
    text = "if a < b && c > d: print('<b>&amp;</b>')\n\t```html\n<div>x</div>\n```"
    assert clean_input(text, DEFAULT, max_chars=1000) == text


def test_control_characters_are_stripped_but_newline_and_tab_kept() -> None:
    assert strip_control("a\x00b\x1bc\x7fd\ne\tf\rg\x85") == "abcd\ne\tfg"


def test_too_long_and_empty_are_rejected_naming_the_field() -> None:
    with pytest.raises(ValidationFailed, match="input: at most 5"):
        clean_input("abcdef", DEFAULT, max_chars=5)
    with pytest.raises(ValidationFailed, match="input: at most 3"):
        clean_input("abcd", InputPolicy(max_chars=3), max_chars=5)
    with pytest.raises(ValidationFailed, match="input: must not be empty"):
        clean_input("\x00\x01 ", DEFAULT, max_chars=5)


def test_html_stripping_removes_markup_and_scripts() -> None:
    assert strip_html("<p>Hello <b>there</b></p><script>alert(1)</script>") == "Hello there"
    assert strip_html("a < b && c > d") == "a < b && c > d"
    assert strip_html("&lt;script&gt;x") == "&lt;script>x"  # decoded text never becomes a tag


def test_conversations_are_cleaned_and_limited() -> None:
    conversation = [
        {"role": "user", "content": "Hi\x00 there"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": [{"type": "input_text", "text": "cafe\u0301?"}]},
    ]
    cleaned = clean_input(conversation, DEFAULT, max_chars=100)
    assert cleaned == [
        {"role": "user", "content": "Hi there"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": [{"type": "input_text", "text": "café?"}]},
    ]
    with pytest.raises(ValidationFailed, match="at most 2 messages"):
        clean_input(conversation, InputPolicy(max_items=2), max_chars=100)
    with pytest.raises(ValidationFailed, match="at most 10 characters"):
        clean_input(conversation, DEFAULT, max_chars=10)
    image = [{"role": "user", "content": [{"type": "input_image", "image_url": "https://x/i.png"}]}]
    with pytest.raises(ValidationFailed, match=r"input.0.content.0.type: .*'input_image'"):
        clean_input(image, DEFAULT, max_chars=100)
    with pytest.raises(ValidationFailed, match="must contain some text"):
        clean_input(
            image,
            InputPolicy(content_types=frozenset({"input_text", "input_image"})),
            max_chars=100,
        )


def test_inconsistent_policies_are_refused() -> None:
    with pytest.raises(ValueError, match="content_types"):
        InputPolicy(content_types=frozenset({"input_audio"})).check("a")
    with pytest.raises(ValueError, match="max_items"):
        InputPolicy(max_items=0).check("a")


@given(st.text())
def test_cleaning_is_idempotent_and_leaves_no_controls(text: str) -> None:
    once = clean_text(text, DEFAULT)
    assert clean_text(once, DEFAULT) == once
    assert not CONTROL.search(once)
    assert unicodedata.is_normalized("NFC", once)


@given(st.text(), st.sampled_from(["NFC", "NFKC"]))
def test_normalisation_is_applied_and_stable(text: str, form: str) -> None:
    policy = InputPolicy(normalization=form, strip_control=False)  # type: ignore[arg-type]
    once = clean_text(text, policy)
    assert unicodedata.is_normalized(form, once)  # type: ignore[arg-type]
    assert clean_text(once, policy) == once


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs"))))
def test_plain_text_passes_unchanged_without_html_stripping(text: str) -> None:
    """Whatever the text (``<``, ``&``, quotes, code), only normalisation may touch it."""
    assert clean_text(text, DEFAULT) == unicodedata.normalize("NFC", text)
    assert clean_text(text, InputPolicy(normalization=None)) == text


@given(st.text())
def test_html_stripping_leaves_nothing_a_browser_reads_as_markup(text: str) -> None:
    assert not TAG_START.search(clean_text(text, HTML))


@given(
    st.text(alphabet=st.characters(blacklist_characters="<&", blacklist_categories=("Cc", "Cs")))
)
def test_html_stripping_keeps_text_without_markup(text: str) -> None:
    assert clean_text(text, HTML) == unicodedata.normalize("NFC", text)


@given(st.lists(st.text(), min_size=1, max_size=8), st.integers(1, 40))
def test_length_limits_hold_for_conversations(texts: list[str], limit: int) -> None:
    conversation = [{"role": "user", "content": text} for text in texts]
    try:
        cleaned = clean_input(conversation, DEFAULT, max_chars=limit)
    except ValidationFailed:
        return
    assert isinstance(cleaned, list)
    assert sum(len(m["content"]) for m in cleaned) <= limit
    assert any(m["content"].strip() for m in cleaned)
