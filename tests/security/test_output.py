from hypothesis import given
from hypothesis import strategies as st

from agenthost.security.input import CONTROL
from agenthost.security.output import for_terminal


def test_terminal_escapes_are_shown_not_obeyed() -> None:
    title = "\x1b]0;owned\x07report\x1b[2J"
    assert for_terminal(title) == "\\x1b]0;owned\\x07report\\x1b[2J"
    assert for_terminal("a < b\n\tcode [b]x[/b]") == "a < b\n\tcode [b]x[/b]"


@given(st.text())
def test_no_control_character_reaches_the_terminal(text: str) -> None:
    assert not CONTROL.search(for_terminal(text))
