"""Python traceback frames as ``path:line in function``, read back to exactly the input."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from headroom_mitm.addon.compress import Context, marker, parse_marker
from headroom_mitm.addon.compress import traceback
from headroom_mitm.addon.tokens import count_tokens
from o200k import requires_o200k

DJANGO = """Traceback (most recent call last):
  File "/testbed/django/db/backends/utils.py", line 85, in _execute
    return self.cursor.execute(sql, params)
  File "/testbed/django/db/backends/sqlite3/base.py", line 396, in execute
    return Database.Cursor.execute(self, query, params)
sqlite3.OperationalError: no such table: __main___user

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "reproduce.py", line 31, in <module>
    User.objects.create(username="alice")
  File "/testbed/django/db/models/manager.py", line 82, in manager_method
    return getattr(self.get_queryset(), name)(*args, **kwargs)
  File "/testbed/django/db/models/query.py", line 422, in create
    obj.save(force_insert=True, using=self.db)
  File "/testbed/django/db/models/base.py", line 741, in save
    force_update=force_update, update_fields=update_fields)
  File "/testbed/django/db/models/base.py", line 779, in save_base
    force_update, using, update_fields,
  File "/testbed/django/db/models/base.py", line 870, in _save_table
    result = self._do_insert(cls._base_manager, using, fields, update_pk, raw)
  File "/testbed/django/db/backends/utils.py", line 85, in _execute
    return self.cursor.execute(sql, params)
  File "/testbed/django/db/utils.py", line 89, in __exit__
    raise dj_exc_value.with_traceback(traceback) from exc_value
  File "/testbed/django/db/backends/utils.py", line 85, in _execute
    return self.cursor.execute(sql, params)
django.db.utils.OperationalError: no such table: __main___user"""


def compress(text: str) -> str:
    return traceback.compress(text, {}, Context()).text


def test_a_real_traceback_costs_fewer_tokens_and_restores_exactly():
    result = compress(DJANGO)
    assert count_tokens(result) < count_tokens(DJANGO) - 30
    assert traceback.restore(result) == DJANGO
    lines = result.split("\n")
    assert "  /testbed/django/db/models/base.py:741 in save" in lines
    assert "  :779 in save_base" in lines and "  :870 in _save_table" in lines  # same file as the frame above
    assert "    return self.cursor.execute(sql, params)" in lines
    assert 'File "' not in result


def test_one_marker_before_the_first_frame_says_how_to_read_them():
    lines = compress(DJANGO).split("\n")
    markers = [parse_marker(line) for line in lines if parse_marker(line)]
    assert len(markers) == 1 and markers[0].kind == "traceback"
    assert "path:line in function" in markers[0].detail and ":line = same file" in markers[0].detail
    assert lines[0] == "Traceback (most recent call last):" and parse_marker(lines[1]) is not None


def test_everything_but_frame_lines_stays_byte_for_byte():
    kept = [line for line in DJANGO.split("\n") if not line.startswith('  File "')]
    result = compress(DJANGO).split("\n")
    assert all(line in result for line in kept)
    assert len(result) == len(DJANGO.split("\n")) + 1


def test_a_chained_traceback_names_its_first_frame_s_file_again():
    chained = (
        "Traceback (most recent call last):\n"
        '  File "/srv/app/models.py", line 10, in load\n    return self.fetch()\n'
        '  File "/srv/app/models.py", line 20, in fetch\n    raise KeyError(key)\n'
        "KeyError: 'user'\n\nDuring handling of the above exception, another exception occurred:\n\n"
        "Traceback (most recent call last):\n"
        '  File "/srv/app/models.py", line 12, in load\n    raise LookupError(key) from None\n'
        '  File "/srv/app/models.py", line 30, in report\n    log(key)\n'
        "LookupError: user"
    )
    result = compress(chained)
    assert traceback.restore(result) == chained
    lines = result.split("\n")
    assert lines.count("  /srv/app/models.py:10 in load") == 1 and "  :20 in fetch" in lines
    assert "  /srv/app/models.py:12 in load" in lines  # not ":12": the frame above it is in another traceback
    assert "During handling of the above exception, another exception occurred:" in lines


def test_pytest_output_keeps_its_own_lines_and_compacts_native_frames():
    pytest_output = """============================= test session starts ==============================
collected 2 items

tests/test_api.py F.                                                     [100%]

=================================== FAILURES ===================================
_________________________________ test_create __________________________________

    def test_create():
>       client.post("/users", json={"name": "a"})

tests/test_api.py:14: 
_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ 
src/api/client.py:88: in post
    return self._send("POST", path, json)
E   ValueError: bad payload
----------------------------- Captured stderr call -----------------------------
Traceback (most recent call last):
  File "/work/src/api/server.py", line 120, in handle
    body = self.parse(request)
  File "/work/src/api/server.py", line 141, in parse
    return schema.load(request.json)
  File "/work/.venv/lib/python3.11/site-packages/marshmallow/schema.py", line 722, in load
    return self._do_load(data, many=many, partial=partial, postprocess=True)
  File "/work/.venv/lib/python3.11/site-packages/marshmallow/schema.py", line 909, in _do_load
    raise exc
marshmallow.exceptions.ValidationError: {'name': ['Too short.']}
=========================== short test summary info ============================
FAILED tests/test_api.py::test_create - ValueError: bad payload
========================= 1 failed, 1 passed in 0.31s =========================="""
    result = compress(pytest_output)
    assert traceback.restore(result) == pytest_output
    assert count_tokens(result) < count_tokens(pytest_output)
    lines = result.split("\n")
    assert "tests/test_api.py:14: " in lines and "src/api/client.py:88: in post" in lines
    assert "  /work/src/api/server.py:120 in handle" in lines and "  :141 in parse" in lines


def test_string_and_frozen_frames_restore_exactly():
    text = """Traceback (most recent call last):
  File "<string>", line 1, in <module>
  File "<frozen importlib._bootstrap>", line 1027, in _gcd_import
  File "<frozen importlib._bootstrap>", line 1004, in _find_and_load
  File "<frozen importlib._bootstrap>", line 981, in _find_and_load_unlocked
  File "/testbed/setup.py", line 3
    from __future__ import annotations,
                                      ^
SyntaxError: trailing comma not allowed without surrounding parentheses"""
    result = compress(text)
    assert traceback.restore(result) == text
    lines = result.split("\n")
    assert "  <string>:1 in <module>" in lines
    assert "  <frozen importlib._bootstrap>:1027 in _gcd_import" in lines and "  :1004 in _find_and_load" in lines
    assert '  File "/testbed/setup.py", line 3' in lines  # a frame without a function is left as it was


def test_text_without_frames_is_untouched():
    for text in ["", "ok", "Traceback (most recent call last):\nKeyError: 'a'", "src/a.py:3: in f\n  b.py:4 in g",
                 'print("File \\"x\\", line 3")']:
        assert compress(text) == text
        assert traceback.restore(text) == text


def test_the_mini_swe_agent_wrapper_keeps_its_tags():
    wrapped = "<returncode>1</returncode>\n<output>\n" + DJANGO + "\n</output>"
    result = compress(wrapped)
    assert result.startswith("<returncode>1</returncode>\n<output>\nTraceback (most recent call last):\n[headroom: ")
    assert result.endswith("\ndjango.db.utils.OperationalError: no such table: __main___user\n</output>")
    assert traceback.restore(result) == wrapped


def test_lines_that_already_look_like_short_frames_are_never_misread():
    before_marker = "  notes.py:3 in f\n  :4 in g\n"
    assert traceback.restore(compress(before_marker + DJANGO)) == before_marker + DJANGO
    assert compress(before_marker + DJANGO).startswith(before_marker)
    after_marker = DJANGO + "\n  notes.py:3 in f"
    result = compress(after_marker)
    assert traceback.restore(result) == after_marker  # unchanged when it could not be told apart
    assert result == after_marker


def test_an_output_that_already_holds_a_traceback_marker_is_left_as_it_was():
    text = marker("traceback", traceback.NOTE) + "\n  a.py:1 in f\n" + DJANGO
    assert compress(text) == text


def test_exception_group_rails_and_windows_line_ends_restore():
    group = """  + Exception Group Traceback (most recent call last):
  |   File "/app/main.py", line 9, in <module>
  |     asyncio.run(main())
  |   File "/usr/lib/python3.12/asyncio/runners.py", line 194, in run
  |     return runner.run(main)
  |   File "/usr/lib/python3.12/asyncio/runners.py", line 118, in run
  |     return self._loop.run_until_complete(task)
  | ExceptionGroup: unhandled errors in a TaskGroup (1 sub-exception)
  +-+---------------- 1 ----------------
    | Traceback (most recent call last):
    |   File "/app/main.py", line 5, in fetch
    |     raise ConnectionError("down")
    | ConnectionError: down
    +------------------------------------"""
    for text in (group, group.replace("\n", "\r\n")):
        result = compress(text)
        assert traceback.restore(result) == text
        assert count_tokens(result) < count_tokens(text)
    assert "  |   :118 in run" in compress(group).split("\n")


def test_real_tracebacks_shrink_and_restore(trace_outputs):
    outputs = [o.text for o in trace_outputs if "Traceback (most recent call last):" in o.text]
    assert outputs
    results = [compress(text) for text in outputs]
    assert all(traceback.restore(result) == text for result, text in zip(results, outputs))
    assert all(count_tokens(result) <= count_tokens(text) for result, text in zip(results, outputs))
    before = sum(count_tokens(text) for text in outputs)
    assert sum(count_tokens(result) for result in results) < 0.95 * before


PATHS = st.one_of(
    st.sampled_from(["/testbed/django/db/models/base.py", "reproduce.py", "<string>", "<stdin>",
                     "<frozen importlib._bootstrap>", "C:\\app\\main.py", "/a b/c.py", "x:1 in y", "|p.py", ""]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=30),
)
FUNCS = st.one_of(st.sampled_from(["<module>", "<listcomp>", "run", "__init__", "Foo.bar", "a b"]),
                  st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=12))
INDENTS = st.sampled_from(["  ", "  |   ", "    |   ", "", "\t"])
SOURCE = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=40)
OTHER_LINES = st.one_of(
    SOURCE,
    st.sampled_from(["Traceback (most recent call last):", "KeyError: 'a'", "  a.py:3 in f", "  :4 in g",
                     "    b.py:12: in test_b", marker("traceback", traceback.NOTE),
                     marker("traceback", traceback.SAME_FILE_NOTE), "<returncode>1</returncode>",
                     "<output>", "</output>", "[Previous line repeated 996 more times]"]),
)


def _holds_a_traceback_marker(text: str) -> bool:
    return any((found := parse_marker(line)) and found.kind == "traceback" for line in text.split("\n"))


@st.composite
def frames(draw):
    indent, path, number = draw(INDENTS), draw(PATHS), draw(st.integers(0, 10**6))
    function = draw(st.one_of(st.none(), FUNCS))
    line = f'{indent}File "{path}", line {number}' + ("" if function is None else f", in {function}")
    return [line + draw(st.sampled_from(["", "\r"]))] + draw(st.lists(SOURCE.map(lambda s: f"{indent}  {s}"),
                                                                         max_size=2))


@st.composite
def tracebacks(draw):
    chunks = draw(st.lists(st.one_of(frames(), OTHER_LINES.map(lambda line: [line])), max_size=25))
    return "\n".join(line for chunk in chunks for line in chunk)


@settings(max_examples=400, deadline=None)
@given(tracebacks())
def test_any_traceback_with_any_text_around_it_restores_exactly(text):
    result = compress(text)
    if result != text or not _holds_a_traceback_marker(text):  # restore reads such a marker as its own
        assert traceback.restore(result) == text
    assert result == text or count_tokens(result) < count_tokens(text)
    assert compress(text) == result


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["/testbed/django/db/models/base.py", "/usr/lib/python3.11/json/decoder.py",
                                           "reproduce.py", "<frozen importlib._bootstrap>"]),
                          st.integers(1, 5000), st.from_regex(r"[a-z_][a-z0-9_]{0,20}", fullmatch=True), SOURCE),
                min_size=4, max_size=20))
@requires_o200k
def test_a_traceback_of_several_frames_always_shrinks(stack):
    text = "Traceback (most recent call last):\n" + "\n".join(
        f'  File "{path}", line {number}, in {function}\n    {source}' for path, number, function, source in stack
    ) + "\nRuntimeError: boom"
    result = compress(text)
    assert count_tokens(result) < count_tokens(text)
    assert traceback.restore(result) == text
