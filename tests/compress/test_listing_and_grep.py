"""ls -R headers shortened to a tree, and grep -r output without line numbers grouped by file."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from headroom_mitm.addon.compress import REGISTRY, Context, detect_kind, run
from headroom_mitm.addon.tokens import count_tokens
from o200k import requires_o200k

LS_R = """.:
README.md
packages

./packages:
webapp

./packages/webapp:
components
main.py

./packages/webapp/components:
models.py
views.py

./packages/webapp/components/tests:
test_models.py

./packages/webapp/components/tests/fixtures:
users.json

./packages/webapp/components/widgets:
button.py

./packages/webapp/library:
util.py

./packages/webapp/library/internal:
cache.py

./packages/webapp/library/internal/backends:
redis.py

./packages/webapp/library/internal/backends/sql:
postgres.py

./packages/webapp/library/internal/backends/sql/migrations:
0001_initial.py"""


def test_ls_r_headers_name_only_the_subdirectory_and_restore():
    result = run("listing", LS_R)
    lines = result.text.split("\n")
    assert lines[0].startswith("[headroom: listing ")
    assert "  packages:" in lines and "    webapp:" in lines and "        tests:" in lines
    assert "          fixtures:" in lines and "        widgets:" in lines and "      library:" in lines
    assert "./packages/webapp/components/tests:" not in result.text
    assert REGISTRY["listing"].restore(result.text) == LS_R


def test_ls_r_cut_by_the_agent_keeps_the_first_header_after_the_cut_whole():
    cut = "./packages/webapp/components:\nmodels.py\nviews.py\n\n"
    truncated = "<returncode>0</returncode>\n<output_head>\n" + LS_R.replace(cut, "</output_head>\n<output_tail>\n")
    result = run("listing", truncated)
    assert "\n./packages/webapp/components/tests:\n" in result.text  # its parent was cut away
    assert "\n  fixtures:\n" in result.text
    assert result.text.startswith("<returncode>0</returncode>\n<output_head>\n[headroom: listing ")
    assert REGISTRY["listing"].restore(result.text) == truncated


WIDE_LS_R = LS_R.replace("models.py\nviews.py", "\n".join(f"{name}.py" for name in (
    "models", "views", "forms", "admin", "urls", "apps", "signals", "serializers", "permissions", "tasks")))


@requires_o200k
def test_a_directory_s_entries_share_one_line_and_cost_fewer_tokens():
    result = run("listing", WIDE_LS_R).text
    assert "models.py views.py forms.py admin.py urls.py apps.py signals.py serializers.py permissions.py tasks.py" \
        in result.split("\n")
    assert count_tokens(result) < count_tokens(WIDE_LS_R)
    assert REGISTRY["listing"].restore(result) == WIDE_LS_R


def test_a_name_with_a_space_keeps_every_entry_on_its_own_line():
    spaced = WIDE_LS_R.replace("views.py", "my views.py")
    result = run("listing", spaced).text
    assert "\nmodels.py\nmy views.py\nforms.py\n" in result
    assert REGISTRY["listing"].restore(result) == spaced


@requires_o200k
def test_real_ls_r_outputs_shrink_and_restore(trace_outputs):
    listings = [o.text for o in trace_outputs if o.source == "mini-swe-agent" and "\n./" in o.text
                and o.text.count(":\n") > 10 and str((o.arguments or {}).get("command")).startswith("ls -R")
                and "|" not in str(o.arguments)]
    assert listings
    for text in listings:
        result = run("listing", text).text
        assert count_tokens(result) < 0.9 * count_tokens(text)
        assert REGISTRY["listing"].restore(result) == text


def test_a_plain_text_with_colons_is_not_a_listing():
    text = "Note:\nsomething\n\nAlso:\nmore\n\nEnd:\nfin"
    assert run("listing", text).text == text


GREP_R = """<returncode>0</returncode>
<output>
grep: tests/x.cpython-36.pyc: binary file matches
django/db/models/sql/compiler.py:from django.db.models.sql.query import Query, get_order_dir
django/db/models/sql/compiler.py:            col, order = get_order_dir(field, asc)
django/db/models/sql/compiler.py:        name, order = get_order_dir(name, default_order)
django/db/models/sql/query.py:def get_order_dir(field, default='ASC'):
</output>"""


def test_grep_r_without_line_numbers_is_search_output_grouped_by_file():
    grep = Context(tool_name="bash", arguments={"command": "grep -r get_order_dir django"})
    assert detect_kind(GREP_R, "bash", grep.arguments) == "search"
    result = run("search", GREP_R, None, grep)
    assert result.text.count("django/db/models/sql/compiler.py") == 1
    assert "\n:            col, order = get_order_dir(field, asc)\n" in result.text
    assert "grep: tests/x.cpython-36.pyc: binary file matches" in result.text
    assert REGISTRY["search"].restore(result.text) == GREP_R


def test_path_colon_text_is_only_read_as_grep_output_when_grep_ran():
    cat = {"command": "cat settings.log"}
    assert detect_kind(GREP_R, "bash", cat) != "search"
    assert run("search", GREP_R, None, Context(arguments=cat)).text == GREP_R


NAME = st.text(alphabet="abc._-", min_size=1, max_size=6)


@st.composite
def listings(draw):
    root = draw(st.sampled_from([".", "src", "/abs/dir"]))
    dirs = [root]
    for _ in range(draw(st.integers(0, 8))):
        parent = draw(st.sampled_from(dirs))
        dirs.append(f"{parent}/{draw(NAME)}")
    blocks = [f"{d}:\n" + "\n".join(draw(st.lists(NAME | st.just("x:"), max_size=4))) for d in dirs]
    return draw(st.sampled_from(["", "<output>\n"])) + "\n\n".join(blocks)


@settings(max_examples=150, deadline=None)
@given(listings())
def test_listing_restores_any_ls_r_output(text):
    result = run("listing", text)
    assert count_tokens(result.text) <= count_tokens(text)
    assert REGISTRY["listing"].restore(result.text) == text


ROW = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=25)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.tuples(st.sampled_from(["a/b.py", "c.txt", "d/e-1.js"]), ROW).map(":".join),
                          st.just("--"), st.just("grep: z.pyc: binary file matches"), ROW), min_size=1, max_size=20))
def test_grouping_plain_grep_rows_restores_exactly(lines):
    text = "\n".join(lines)
    result = run("search", text, None, Context(arguments={"command": "grep -r x ."}))
    assert len(result.text) <= len(text)
    assert REGISTRY["search"].restore(result.text) == text
