"""Path lists (find, git ls-files, grep -l, globs) with each directory's paths on one line."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from headroom_mitm.addon.compress import Context, paths
from headroom_mitm.addon.compress._base import not_longer
from headroom_mitm.addon.tokens import count_tokens
from o200k import requires_o200k

FIND = """<returncode>0</returncode>
<output>
sphinx/builders/__init__.py
sphinx/builders/changes.py
sphinx/builders/dirhtml.py
sphinx/builders/dummy.py
sphinx/builders/epub3.py
sphinx/builders/gettext.py
sphinx/builders/html
sphinx/builders/html/__init__.py
sphinx/builders/html/transforms.py
sphinx/builders/latex
sphinx/builders/latex/__init__.py
sphinx/builders/latex/constants.py
sphinx/builders/latex/nodes.py
sphinx/builders/latex/theming.py
sphinx/builders/latex/transforms.py
sphinx/builders/latex/util.py
sphinx/builders/linkcheck.py
sphinx/builders/manpage.py
sphinx/builders/singlehtml.py
sphinx/builders/texinfo.py
sphinx/builders/text.py
sphinx/builders/xml.py
sphinx/domains/__init__.py
sphinx/domains/c.py
sphinx/domains/changeset.py
sphinx/domains/citation.py
sphinx/domains/cpp.py
sphinx/domains/index.py
sphinx/domains/javascript.py
sphinx/domains/math.py
sphinx/domains/python.py
sphinx/domains/rst.py
sphinx/domains/std.py
</output>"""

WARNING = """<warning>
The output of your last command was too long.
Please try a different command that produces less output.
If you're looking at a file you can try use head, tail or sed to view a smaller number of lines selectively.
If you're using grep or find and it produced too much output, you can use a more selective search pattern.
If you really need to see something from the full command's output, you can redirect output to a file and then search in that file.
</warning>"""


def compress(text: str) -> str:
    result = paths.compress(text, {}, Context()).text
    assert not_longer(result, text)
    assert paths.restore(result) == text
    return result


def test_find_output_puts_each_directory_s_paths_on_one_line_and_restores():
    result = compress(FIND)
    lines = result.split("\n")
    assert lines[:2] == ["<returncode>0</returncode>", "<output>"] and lines[-1] == "</output>"
    assert lines[2].startswith("[headroom: paths 33 in ")
    assert lines[2].endswith(" relative to sphinx/; " + paths.HOW + "]")
    assert "domains/__init__.py c.py changeset.py citation.py cpp.py index.py javascript.py math.py python.py " \
           "rst.py std.py" in lines
    assert count_tokens(result) < 0.75 * count_tokens(FIND)


@requires_o200k
def test_a_small_subdirectory_stays_on_its_parent_s_line():
    names = ["a.py", "b.py", "util", "util/x.py", "c.py", "d.py", "e.py", "f.py", "g.py", "h.py", "i.py", "j.py"]
    text = "\n".join(["README.md"] + [f"src/app/{name}" for name in names])
    assert compress(text).split("\n")[1:] == ["README.md", "src/app/a.py " + " ".join(names[1:])]


def test_absolute_paths_name_their_shared_directory_once():
    root = "/home/user/projects/webapp/"
    text = "\n".join(f"{root}deps/{name}/mix.exs" for name in (
        "finch", "owl", "jason", "mint", "plug", "ecto", "phoenix", "telemetry", "decimal", "gettext"))
    result = compress(text)
    assert result.count(root) == 1
    assert f"relative to {root}deps/;" in result.split("\n")[0]
    assert "finch/mix.exs" in result.split("\n")


def test_an_output_the_agent_cut_keeps_its_warning_and_tags():
    head = "\n".join(f"./tests/auth_tests/test_{n}.py" for n in range(60))
    tail = "\n".join(f"./tests/forms_tests/tests/test_{n}.py" for n in range(60))
    text = (f"<returncode>0</returncode>\n{WARNING}<output_head>\n{head}\n</output_head>\n<elided_chars>\n"
            f"12345 characters elided\n</elided_chars>\n<output_tail>\n{tail}\n</output_tail>")
    result = compress(text)
    assert result.startswith(f"<returncode>0</returncode>\n{WARNING}<output_head>\n[headroom: paths 60 in ")
    assert "\n</output_head>\n<elided_chars>\n12345 characters elided\n</elided_chars>\n<output_tail>\n" \
           "[headroom: paths 60 in " in result
    assert "./tests/auth_tests/test_0.py test_1.py test_2.py" in result
    assert count_tokens(result) < 0.6 * count_tokens(text)


def test_a_path_with_a_space_stays_on_its_own_line():
    spaced = FIND.replace("sphinx/builders/dummy.py", "sphinx/builders/my dummy.py")
    result = compress(spaced)
    assert "\nsphinx/builders/my dummy.py\n" in result


def test_paths_that_all_hold_spaces_are_left_alone():
    text = "\n".join(f"My Documents/report {n}.txt" for n in range(20))
    assert compress(text) == text


def test_prose_and_code_are_left_alone():
    prose = "The paths below were changed:\n" + "\n".join(f"Updated src/module_{n}.py to fix it" for n in range(12))
    code = "\n".join(["def main():", "    return 1", "}", "]", ")", "pass", "else", "end", "x", "y", "z/w"])
    assert compress(prose) == prose
    assert compress(code) == code


def test_a_path_list_inside_prose_is_left_alone():
    listed = "\n".join(f"src/pkg/mod_{n}.py" for n in range(10))
    text = "\n".join(["Here is what I found in the repository after looking around for a while."] * 3
                     + [listed] + ["Let me know which of these you want me to open next, please."] * 3)
    assert compress(text) == text


def test_grep_rows_are_left_alone():
    rows = "\n".join(f"django/db/models/query.py:{n}:x=1" for n in range(1, 30))
    files_with_matches_and_text = "\n".join(f"django/db/models/f{n}.py:    return self" for n in range(30))
    assert compress(rows) == rows
    assert compress(files_with_matches_and_text) == files_with_matches_and_text


def test_ls_r_listings_are_left_alone():
    blocks = [f"./pkg/dir{n}:\n" + "\n".join(f"sub{k}/" for k in range(12)) for n in range(6)]
    text = "\n\n".join(blocks)
    assert compress(text) == text


def test_too_few_paths_are_left_alone():
    text = "\n".join(f"src/a/{n}.py" for n in range(7))
    assert compress(text) == text


def test_a_line_that_looks_like_the_marker_survives():
    text = "[headroom: paths 2 in 1 lines; words after a line's first path are paths relative to its directory]\n" \
           + "\n".join(f"src/pkg/mod_{n}.py" for n in range(40))
    result = paths.compress(text, {}, Context()).text
    assert result == text or paths.restore(result) == text


def test_real_find_outputs_shrink_and_restore(trace_outputs):
    finds = [o.text for o in trace_outputs if o.source == "mini-swe-agent"
             and str((o.arguments or {}).get("command")).startswith("find")]
    assert finds
    results = [compress(text) for text in finds]
    before = sum(count_tokens(text) for text in finds)
    after = sum(count_tokens(text) for text in results)
    assert after < 0.75 * before


COMPONENT = st.text(alphabet="abc_.-", min_size=1, max_size=5)
ODD_LINE = st.sampled_from(["", "a b", "x:y", "<tag>", "[headroom: paths 1 in 1 lines]", "  indented", "c/d e"])


@st.composite
def path_lists(draw):
    start = draw(st.sampled_from(["", "./", "/", "/home/u/"]))
    dirs = [start]
    for _ in range(draw(st.integers(0, 6))):
        parent = draw(st.sampled_from(dirs))
        dirs.append(parent + draw(st.text(alphabet="abc_.-", max_size=4)) + "/")
    entry = st.tuples(COMPONENT, st.sampled_from(["", "", "/"])).map("".join)
    groups = draw(st.lists(st.tuples(st.sampled_from(dirs), st.lists(entry, min_size=1, max_size=8)), max_size=10))
    lines = [directory + name for directory, names in groups for name in names]
    order = draw(st.sampled_from(["as generated", "sorted", "shuffled"]))
    if order == "sorted":
        lines.sort()
    elif order == "shuffled":
        lines = draw(st.permutations(lines))
    for _ in range(draw(st.integers(0, 2))):
        lines.insert(draw(st.integers(0, len(lines))), draw(ODD_LINE))
    body = "\n".join(lines)
    frame = draw(st.sampled_from(["plain", "newline", "wrapped", "cut"]))
    if frame == "newline":
        return body + "\n"
    if frame == "wrapped":
        return f"<returncode>0</returncode>\n<output>\n{body}\n</output>"
    if frame == "cut":
        half = len(lines) // 2
        return ("<returncode>0</returncode>\n<warning>\ntoo long\n</warning><output_head>\n"
                + "\n".join(lines[:half]) + "\n</output_head>\n<elided_chars>\n9 characters elided\n"
                + "</elided_chars>\n<output_tail>\n" + "\n".join(lines[half:]) + "\n</output_tail>")
    return body


@settings(max_examples=300, deadline=None)
@given(path_lists())
def test_any_path_list_restores_exactly(text):
    result = compress(text)
    assert result == text or count_tokens(result) < count_tokens(text)
