"""``ls -l`` listings without column padding, shared modes, owner, group and date said once, restored exactly."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings, strategies as st

from headroom_mitm.addon.compress import Context, ls_long
from headroom_mitm.addon.compress.markers import parse_marker
from headroom_mitm.addon.tokens import count_tokens
from o200k import requires_o200k

LS_LA = """<returncode>0</returncode>
<output>
total 232
drwxrwxrwx  4 root root  4096 Oct 24  2024 .
drwxrwxrwx 18 root root  4096 Nov 19 00:15 ..
-rw-r--r--  1 root root   368 Oct 24  2024 __init__.py
-rw-r--r--  1 root root 10512 Oct 24  2024 boundfield.py
-rw-r--r--  1 root root 47131 Oct 24  2024 fields.py
-rw-r--r--  1 root root 19381 Oct 24  2024 forms.py
-rw-r--r--  1 root root 20190 Oct 24  2024 formsets.py
drwxrwxrwx  3 root root  4096 Oct 24  2024 jinja2
-rw-r--r--  1 root root 57753 Oct 24  2024 models.py
-rw-r--r--  1 root root  1904 Oct 24  2024 renderers.py
drwxrwxrwx  3 root root  4096 Oct 24  2024 templates
-rw-r--r--  1 root root  5996 Oct 24  2024 utils.py
-rw-r--r--  1 root root 37575 Oct 24  2024 widgets.py
</output>"""


def _compress(text: str) -> str:
    result = ls_long.compress(text, {}, Context(tool_name="bash", arguments={"command": "ls -la"})).text
    assert len(result) <= len(text)
    assert ls_long.restore(result) == text
    return result


def _marker_detail(compressed: str) -> str:
    found = [parse_marker(line) for line in compressed.split("\n") if line.startswith("[headroom: ls_long ")]
    assert len(found) == 1 and found[0] is not None
    return found[0].detail


def test_a_listing_shrinks_in_tokens_and_restores_exactly():
    compressed = _compress(LS_LA)
    assert count_tokens(compressed) < 0.75 * count_tokens(LS_LA)
    assert compressed.startswith("<returncode>0</returncode>\n<output>\ntotal 232\n[headroom: ls_long ")
    assert compressed.endswith("\n1 37575 widgets.py\n</output>")


@requires_o200k
def test_the_marker_states_the_shared_values_and_each_row_keeps_one_line_with_its_name_last():
    compressed = _compress(LS_LA)
    detail = _marker_detail(compressed)
    assert "13 rows" in detail and "(mode) links (owner:group) size (date) name" in detail
    assert "omitted mode is -rw-r--r-- for files, drwxrwxrwx for directories shown as name/" in detail
    assert "owner:group is root:root" in detail and "date Oct 24 2024" in detail
    rows = compressed.split("\n")[4:-1]
    assert len(rows) == 13
    assert "1 10512 boundfield.py" in rows and "3 4096 jinja2/" in rows
    assert all(" root " not in row and "Oct 24" not in row and "rw" not in row for row in rows)


@requires_o200k
def test_rows_that_differ_in_owner_group_or_date_keep_them():
    text = LS_LA.replace("root root 47131 Oct 24  2024", "www-data staff 47131 Mar  3 09:07")
    text = text.replace(" root root", " root     root ")  # ls pads owner and group to the widest
    compressed = _compress(text)
    assert compressed != text
    assert "\n18 4096 Nov 19 00:15 ../\n" in compressed
    assert "\n1 www-data:staff 47131 Mar  3 09:07 fields.py\n" in compressed
    assert "\n1 368 __init__.py\n" in compressed


@requires_o200k
def test_acl_and_selinux_marks_device_numbers_symlinks_and_odd_names_restore_exactly():
    text = """total 24
drwxr-xr-x+  3 dev  staff    4096 Nov 19 00:15 .
drwxr-xr-x  12 dev  staff    4096 Nov 19 00:15 ..
-rw-r--r--+  1 dev  staff     807 Oct 24  2024 notes with spaces.txt
-rw-r--r--.  1 dev  staff       9 Oct  5  2024 ünïcødé 名前.py
lrwxrwxrwx   1 dev  staff      11 Oct 24  2024 link -> target dir/file
crw-rw-rw-   1 root root    1,  3 Oct 24  2024 null
brw-rw----   1 root disk  259, 12 Oct 24  2024 nvme0n1p1
-rw-r--r--   1 dev  staff 1048576 Oct 24  2024 Oct 24 12:00 starts like a date
-rw-r--r--   1 dev  staff      12 Oct 24  2024 a:b:c
-rw-r--r--   1 dev  staff      12 Oct 24  2024 \x1b[1mbold\x1b[0m"""
    compressed = _compress(text)
    assert compressed != text
    assert "\ncrw-rw-rw- 1 root:root 1,3 null\n" in compressed
    assert "\n-rw-r--r--. 1 9 Oct  5  2024 ünïcødé 名前.py\n" in compressed
    assert "\n1 1048576 Oct 24  2024 Oct 24 12:00 starts like a date\n" in compressed


def test_gnu_device_listing_restores_exactly():
    devices = [("crw-r--r--", 10, 235, "autofs"), ("crw-------", 5, 1, "console"), ("crw-rw-rw-", 1, 3, "null"),
               ("crw-rw-rw-", 1, 8, "random"), ("brw-rw----", 259, 0, "nvme0n1"), ("crw--w----", 136, 0, "0")]
    rows = [f"{mode} 1 root root {major:>3}, {minor:>3} Nov 20 02:31 {name}" for mode, major, minor, name in devices]
    rows += [f"drwxr-xr-x 2 root root {80:>8} Nov 20 02:31 pts",
             f"lrwxrwxrwx 1 root root {13:>8} Nov 20 02:31 fd -> /proc/self/fd"]
    text = "\n".join(rows)
    compressed = _compress(text)
    assert "\ncrw-rw-rw- 1 1,3 null\n" in compressed


def test_several_directories_get_a_marker_each_and_their_headers_stay():
    block = "\n".join(f"-rw-r--r-- 1 root root {size:>4} Oct 24  2024 file_{size}.py" for size in range(100, 3000, 300))
    recent = block.replace("Oct 24  2024", "Nov 24 12:00")
    text = f"src:\ntotal 40\n{block}\n\nsrc/sub dir:\ntotal 40\n{recent}"
    compressed = _compress(text)
    assert compressed.count("[headroom: ls_long 10 rows ") == 2
    assert "\n\nsrc/sub dir:\ntotal 40\n[headroom: ls_long " in compressed and "date Nov 24 12:00" in compressed


def test_a_listing_cut_short_keeps_the_cut_row_and_the_padding_of_columns_wider_than_shown():
    # `ls -la | head`: the widest size and link count were in rows that were not printed.
    rows = "\n".join(f"-rw-r--r--   1 root root {size:>9} Oct 24  2024 m{size}.py" for size in range(1000, 9000, 700))
    text = f"<returncode>0</returncode>\n<output_head>\ntotal 9000\n{rows}\n-rw-r--r--   1 root ro</output_head>"
    compressed = _compress(text)
    assert "widths links 3 size 9" in _marker_detail(compressed)
    assert compressed.endswith("\n-rw-r--r--   1 root ro</output_head>")


def test_macos_two_space_owner_and_group_columns_restore_exactly():
    text = "\n".join(f"-rw-r--r--@  1 dev  staff  {size:>4} Oct 24 12:00 f{size}.swift"
                     for size in range(200, 2000, 150))
    assert _compress(text) != text


def test_numeric_owners_are_right_aligned_like_ls_prints_them():
    text = "\n".join(f"-rw-r--r-- 1 {uid:>4} {uid:>4} 10 2024-10-24 12:00 f{i}" for i, uid in enumerate([0, 1000] * 6))
    assert _compress(text) != text


def test_not_a_listing_or_too_little_to_gain_is_left_unchanged():
    for text in ["", "total 8", "README.md\nsetup.py\nsrc", "-rw-r--r-- 1 root root 6239 Oct 24  2024 tests/x.py",
                 "drwxr-xr-x 2 root root 4096 Oct 24  2024 .\n-rw-r--r-- 1 root root 10 Oct 24  2024 a",
                 "commit 3f2a\nAuthor: x\nDate:   Oct 24 2024\n\n    fix", "-rw-r--r-- is the mode of\n-rw-r--r-- files"]:
        assert ls_long.compress(text, {}, Context()).text == text
        assert ls_long.restore(text) == text


def test_owner_names_the_marker_cannot_hold_leave_the_listing_unchanged():
    text = "\n".join(f"-rw-r--r-- 1 a#b   staff {size:>4} Oct 24  2024 f{size}" for size in range(100, 2000, 100))
    assert _compress(text) == text


def _rebuilt_mode(row: str, detail: str) -> str:
    """A row's mode as a reader of the marker rebuilds it: its own, or the one the marker shares."""
    if not row[0].isdigit():
        return row.split(" ", 1)[0]
    shared = re.search(r"omitted mode is (?:(\S+) for files)?(?:, )?(?:(\S+) for directories shown as name/)?",
                       detail)
    return shared[2] if row.endswith("/") else shared[1]


@requires_o200k
def test_rows_with_the_shared_file_or_directory_mode_omit_it_and_every_mode_can_be_rebuilt():
    text = LS_LA.replace("-rw-r--r--  1 root root  5996", "-rwxr-xr-x  1 root root  5996").replace(
        "-rw-r--r--  1 root root   368 Oct 24  2024 __init__.py",
        "lrwxrwxrwx  1 root root   368 Oct 24  2024 __init__.py -> x")
    compressed = _compress(text)
    detail = _marker_detail(compressed)
    rows = compressed.split("\n")[4:-1]
    assert "-rwxr-xr-x 1 5996 utils.py" in rows and "lrwxrwxrwx 1 368 __init__.py -> x" in rows
    assert "1 47131 fields.py" in rows and "18 4096 Nov 19 00:15 ../" in rows
    originals = text.split("\n")[3:-1]
    assert [_rebuilt_mode(row, detail) for row in rows] == [line.split(" ", 1)[0] for line in originals]


def test_a_mode_shared_by_too_few_rows_to_pay_is_not_stated():
    # One directory among many files: naming its mode in the marker costs more than the row saves.
    files = "\n".join(f"-rw-r--r-- 1 root root {size:>4} Oct 24  2024 f{size}.py" for size in range(100, 2000, 150))
    compressed = _compress(f"drwxr-xr-x 3 root root 4096 Oct 24  2024 src\n{files}")
    assert "omitted mode is -rw-r--r-- for files;" in _marker_detail(compressed)
    assert "\ndrwxr-xr-x 3 4096 src\n" in compressed and "\n1 250 f250.py\n" in compressed


def test_classify_output_with_names_that_already_end_in_a_slash_restores_exactly():
    # `ls -lF`: a directory's name ends in / already, so an omitted mode makes it end in two.
    rows = [("drwxr-xr-x", 2, "root", "root", "4096", "Oct 24  2024", f"d{i}/") for i in range(6)]
    rows += [("-rwxr-xr-x", 1, "root", "root", f"{i}00", "Oct 24  2024", f"run{i}*") for i in range(1, 7)]
    rows += [("-rwxr-xr-x", 1, "root", "root", "700", "Oct 24  2024", "not a dir/"),
             ("lrwxrwxrwx", 1, "root", "root", "4", "Oct 24  2024", "up@ -> ../")]
    text = _gnu_listing(rows, 0)
    compressed = _compress(text)
    assert "\n2 4096 d1//\n" in compressed and "\n1 100 run1*\n" in compressed
    assert "\n-rwxr-xr-x 1 700 not a dir/\n" in compressed
    assert compressed.endswith("\nlrwxrwxrwx 1 4 up@ -> ../")


def test_a_marker_whose_rows_do_not_read_one_way_is_refused_rather_than_guessed():
    head = "[headroom: ls_long 2 rows unpadded: (mode) links (owner:group) size (date) name; "
    tail = "omitted owner:group is root:root, date Oct 24 2024]"
    for modes, rows in [("", "1 10 a\n1 10 b"),  # no shared mode to rebuild from
                        ("omitted mode is -rw-r--r-- for files; ", "1 10 a\n2 4096 d/"),
                        ("omitted mode is drwxr-xr-x for directories shown as name/; ", "2 4096 d/\n1 10 a"),
                        ("omitted mode is -rw-r--r-- for files,drwxr-xr-x for directories shown as name/; ",
                         "1 10 a\n2 4096 d/")]:
        with pytest.raises(ValueError):
            ls_long.restore(head + modes + tail + "\n" + rows)


# Generated listings, padded the way GNU ls pads them, sometimes wider than needed (a cut listing).
MODE = st.builds("".join, st.tuples(st.sampled_from("-dlcbps"), *[st.sampled_from(c) for c in ("r-", "w-", "xsS-",
                 "r-", "w-", "xsS-", "r-", "w-", "xtT-")], st.sampled_from(["", "", "+", "."])))
NAME = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"),
               min_size=1, max_size=20)
OWNER = st.sampled_from(["root", "www-data", "dev", "1000", "0"])
MONTH = st.sampled_from(["Jan", "Feb", "Oct", "Nov"])
DATE = st.one_of(
    st.builds(lambda m, d, y: f"{m} {d:>2} {y:>5}", MONTH, st.integers(1, 31), st.sampled_from(["2024", "1999"])),
    st.builds(lambda m, d, h, mi: f"{m} {d:>2} {h:02}:{mi:02}", MONTH, st.integers(1, 31),
              st.integers(0, 23), st.integers(0, 59)),
    st.just("2024-10-24 12:00"),
)
SIZE = st.one_of(st.integers(0, 10**9).map(str), st.sampled_from(["4.0K", "12M", "0"]),
                 st.tuples(st.integers(0, 300), st.integers(0, 300)))
ROW = st.tuples(MODE, st.integers(1, 300), OWNER, OWNER, SIZE, DATE, NAME)


def _gnu_listing(rows, extra) -> str:
    """``rows`` padded as GNU ls pads them, links and size ``extra`` wider (as in a listing cut short)."""
    devices = [row[4] for row in rows if isinstance(row[4], tuple)]
    major = max((len(str(number)) for number, _ in devices), default=0)
    minor = max((len(str(number)) for _, number in devices), default=0)

    def size_cell(size):
        return f"{size[0]:>{major}}, {size[1]:>{minor}}" if isinstance(size, tuple) else size

    def id_cell(name, width):
        return name.rjust(width) if name.isdigit() else name.ljust(width)

    mode, links, owner, group = (max(len(str(row[column])) for row in rows) for column in range(4))
    size = max(len(size_cell(row[4])) for row in rows) + extra
    return "\n".join(
        f"{row[0]:<{mode}} {row[1]:>{links + extra}} {id_cell(row[2], owner)} {id_cell(row[3], group)} "
        f"{size_cell(row[4]):>{size}} {row[5]} {row[6]}"
        for row in rows
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(ROW, min_size=1, max_size=25), st.integers(0, 2), st.sampled_from(["", "total 96\n"]),
       st.sampled_from(["", "\n-rw-r--r--  1 ro", "\n\nsub:\ntotal 0"]))
def test_any_generated_long_listing_restores_exactly(rows, extra, head, tail):
    text = head + _gnu_listing(rows, extra) + tail
    _compress(text)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(MODE, st.integers(1, 30), st.sampled_from(["root", "dev"]), SIZE,
                          st.sampled_from(["Oct 24  2024", "Nov 19 00:15"]),
                          st.from_regex(r"[a-z_]{1,12}\.py", fullmatch=True)),
                min_size=12, max_size=30))
def test_a_generated_listing_with_shared_owner_and_dates_always_shrinks(rows):
    text = _gnu_listing([(mode, links, owner, owner, size, date, name)
                         for mode, links, owner, size, date, name in rows], 0)
    compressed = _compress(text)
    assert count_tokens(compressed) < count_tokens(text)
    assert len(compressed.split("\n")) == len(rows) + 1


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["-rw-r--r--", "-rw-r--r--", "-rwxr-xr-x", "drwxr-xr-x", "drwxr-xr-x",
                                           "drwxrwxrwx", "lrwxrwxrwx", "-rw-r--r--+"]),
                          st.integers(1, 30), SIZE, st.from_regex(r"[a-z. ]{1,8}[/*@]?/?", fullmatch=True)),
                min_size=2, max_size=30))
def test_a_generated_listing_of_shared_modes_and_classify_names_restores_exactly(rows):
    text = _gnu_listing([(mode, links, "root", "root", size, "Oct 24  2024", name)
                         for mode, links, size, name in rows], 0)
    _compress(text)


@requires_o200k
def test_real_ls_l_outputs_restore_exactly_and_shrink(trace_outputs):
    listings = [o for o in trace_outputs
                if isinstance(o.arguments, dict) and re.search(r"\bls\s+-\S*l", o.arguments.get("command") or "")]
    assert listings
    before = after = 0
    for output in listings:
        compressed = _compress(output.text)
        before, after = before + count_tokens(output.text), after + count_tokens(compressed)
    assert after < 0.5 * before  # a shared mode, owner, group and date leave about 45% of the tokens
