"""call_echo: a written file echoed back in the result becomes a marker pointing at the call."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from headroom_mitm.addon.compress import Context, run
from headroom_mitm.addon.compress.call_echo import compress, expand

CONTENT = "\n".join(f"def handler_{i}(request):\n    return respond(request, {i})" for i in range(20))
ECHO = ("The file /src/app.py has been updated. Here's the result of running `cat -n` on a snippet:\n"
        + "\n".join(f"{n:>6}→{line}" for n, line in enumerate(CONTENT.split("\n"), start=1)))
WRITE = Context(tool_name="Write", arguments={"file_path": "/src/app.py", "content": CONTENT}, call_id="toolu_1")


def test_echoed_content_becomes_one_marker_that_expands_back():
    result = compress(ECHO, {"min_lines": 4}, WRITE)
    assert result.text.split("\n") == [
        ECHO.split("\n")[0],
        "[headroom: call_echo lines 1-40 of argument content, numbered 1-40 arrow]",
    ]
    assert expand(result.text, WRITE.arguments) == ECHO


def test_lines_the_call_does_not_hold_are_kept():
    changed = ECHO.replace("respond(request, 7)", "respond(request, 700)")
    result = compress(changed, {"min_lines": 4}, WRITE)
    assert "respond(request, 700)" in result.text
    assert expand(result.text, WRITE.arguments) == changed


def test_without_a_long_argument_nothing_changes():
    bare = Context(tool_name="Write", arguments={"file_path": "/src/app.py"})
    assert compress(ECHO, {"min_lines": 4}, bare).text == ECHO


LINES = st.lists(st.sampled_from(["alpha = 1", "beta = 2", "", "    return alpha + beta", "}", "x" * 30]),
                 max_size=30)


@settings(max_examples=200, deadline=None)
@given(LINES, st.integers(0, 30), st.integers(0, 30), st.sampled_from(["→", "\t", None]), st.text(max_size=60))
def test_deterministic_never_longer_never_raises_and_expands(source, start, count, separator, noise):
    content = "\n".join(source) + "\n" + "padding line " * 20
    shown = content.split("\n")[start : start + count]
    if separator:
        shown = [f"{n:>6}{separator}{line}" for n, line in enumerate(shown, start=start + 1)]
    text = "\n".join([noise, *shown, noise])
    ctx = Context(tool_name="Write", arguments={"content": content, "file_path": "/f"})
    first = run("call_echo", text, None, ctx)
    assert len(first.text) <= len(text)
    assert run("call_echo", text, None, ctx) == first
    assert expand(first.text, ctx.arguments) == text
