"""What a user would see from each compressor on small, telling inputs."""

from __future__ import annotations

import json

import pytest
from json_values import same_json

from headroom_mitm.addon.compress import REGISTRY, Context, detect_kind, resolve_params, run
from headroom_mitm.addon.compress.markers import parse_marker, ref_of


@pytest.mark.parametrize("line", ["2025-06-01T10:00:00 INFO started", "10:00:00 worker ready",
                                  "2025-06-01T10:00:00.123Z ERROR db down"])
def test_iso_timestamps_are_not_grep_output(line):
    log = "\n".join(line for _ in range(10))
    assert detect_kind(log, "Bash") != "search"
    assert run("search", log).text == log


def test_detect_kind_by_content():
    assert detect_kind('[{"a": 1}]', "mcp__x__list") == "json"
    assert detect_kind("src/a.py:12:def f():\nsrc/a.py:40:f()", "Bash") == "search"
    assert detect_kind("     1→a\n     2→b\n     3→c", "Bash") == "file_read"
    assert detect_kind("diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b", "Bash") == "diff"
    assert detect_kind("===== 3 passed, 1 failed in 0.12s =====", "Bash") == "test"
    assert detect_kind("hello there", "Bash") == "text"


def test_an_output_the_agent_cut_short_is_known_by_its_head():
    numbered = "\n".join(f"{n:>6}\tline {n}" for n in range(1, 200))
    cut = ("<returncode>0</returncode>\n<warning>\nThe output of your last command was too long.\n</warning>"
           f"<output_head>\n{numbered[:3000]}\n</output_head>\n<elided_chars>\n900 characters elided\n</elided_chars>\n"
           f"<output_tail>\n{numbered[-2000:]}\n</output_tail>")
    assert detect_kind(cut, "bash") == "file_read"
    compacted = run("line_numbers", cut).text
    assert "[headroom: lines numbered 1-" in compacted and compacted.startswith("<returncode>0</returncode>\n<warning>")
    assert REGISTRY["line_numbers"].restore(compacted) == cut


def test_grep_output_is_grouped_by_file_and_restores():
    rows = [f"src/app/main.py:{n}:call_{n}()" for n in range(20, 30)]
    grep = "\n".join(["src/app/main.py:12:def main():", "src/app/main.py-13-    run()", *rows, "--", "lib/b.py:3:import a"])
    compressed = run("search", grep).text
    assert compressed.count("src/app/main.py") == 1 and "\n13-    run()\n" in compressed and "\n--\n" in compressed
    assert REGISTRY["search"].restore(compressed) == grep


def test_search_cap_drops_rows_into_originals():
    grep = "\n".join(f"src/a.py:{n}:match number {n}" for n in range(1, 60))
    result = run("search", grep, {"max_per_file": 5})
    assert "match number 5" in result.text and "match number 6\n" not in result.text
    assert result.originals == (grep,) and ref_of(grep) in result.text


def test_json_records_become_a_table_with_the_same_value():
    records = [{"id": n, "name": f"item {n}", "ok": n % 2 == 0, "tags": ["a"]} for n in range(20)]
    text = json.dumps({"total": 20, "items": records}, indent=2)
    compressed = run("json_table", text).text
    assert len(compressed) < len(text) / 2
    assert same_json(json.loads(REGISTRY["json_table"].restore(compressed)), json.loads(text))


def test_json_sample_keeps_errors_and_argument_matches():
    items = [{"id": n, "status": "ok", "latency": 10} for n in range(200)]
    items[97]["status"] = "error: disk full"
    items[123]["latency"] = 9000
    items[150]["name"] = "needle-service"
    result = run("json_sample", json.dumps(items), None, Context(arguments={"query": "needle-service"}))
    kept = json.loads(result.text.split("\n", 1)[1])
    assert {97, 123, 150} <= {item["id"] for item in kept}
    assert parse_marker(result.text.split("\n", 1)[0]).ref == ref_of(json.dumps(items))
    assert result.originals == (json.dumps(items),)


def test_log_folds_repeats_and_keeps_traceback_whole():
    noise = [f"2025-06-01T10:00:{n % 60:02d} INFO poll {n} ok" for n in range(400)]
    trace = ["Traceback (most recent call last):", '  File "app.py", line 3, in <module>', "    main()",
             "ValueError: bad config"]
    text = "\n".join(noise[:200] + trace + noise[200:])
    result = run("log", text)
    assert all(line in result.text for line in trace)
    assert noise[0] in result.text and len(result.text) < len(text) / 5
    for found in result.text.split("\n"):
        marker = parse_marker(found)
        if marker and marker.ref:
            assert any(ref_of(original) == marker.ref for original in result.originals)


def test_log_keeps_pytest_s_failure_report_whole():
    words = ("models", "views", "forms", "urls", "admin", "signals", "utils")
    passing = [f"tests/test_{words[n % 7]}.py::test_{words[n * 3 % 7]}_{n} PASSED" for n in range(300)]
    names = [a + b for a in ("width", "height", "depth", "colour", "weight", "length")
             for b in ("", "_min", "_max", "_mean", "_unit", "_scale", "_limit")]
    source = [f"        {name} = normalise(label, {name}_table)" for name in names]  # longer than the tail kept
    report = ["=================================== FAILURES ===================================",
              "_________________________________ test_label _________________________________", "",
              "    def check_label(label: Union[str, bytes]) -> None:", *source,
              "        for pos, cp in enumerate(label):",
              "            cp_value = ord(cp)",
              ">           if intranges_contain(cp_value, codepoint_classes['PVALID']):",
              "E           IndexError: list index out of range", "",
              "idna/core.py:240: IndexError"]
    summary = ["=========================== short test summary info ============================",
               "FAILED tests/test_models.py::test_label - IndexError: list index out of range",
               "========================= 1 failed, 300 passed in 3.10s ========================="]
    text = "\n".join(passing + report + summary)
    result = run("log", text)
    assert all(line in result.text.split("\n") for line in report + summary)
    assert len(result.text) < len(text) / 3


def test_ansi_strips_colours_and_keeps_crlf():
    text = "\x1b[31mred\x1b[0m\r\nplain\r\n"
    assert run("ansi", text).text == "red\r\nplain\r\n"


def test_carriage_return_redraws_keep_the_last_frame_and_the_original():
    frames = "\r".join(f"downloading {n}%" for n in range(101))
    text = f"{frames}\nnext"
    result = run("ansi", text)
    assert result.text.startswith("downloading 100%\nnext\n[headroom: ansi ") and result.originals == (text,)


def test_dedupe_refers_to_the_earlier_call():
    text = "x" * 500
    import hashlib
    ctx = Context(call_id="c2", earlier_outputs={hashlib.sha256(text.encode()).hexdigest(): "c1"})
    assert "call c1" in run("dedupe", text, None, ctx).text


def test_reread_sends_a_small_diff_against_the_earlier_read():
    old = "\n".join(f"{n:>6}→line {n}" for n in range(1, 200))
    new = old.replace("line 100", "line one hundred")
    ctx = Context(arguments={"file_path": "/x.py"}, call_id="c2", earlier_reads={"/x.py": ("c1", old)})
    result = run("reread", new, None, ctx)
    assert "call c1" in result.text and "+line one hundred" in result.text and "-line 100" in result.text


def test_long_unbroken_lines_are_cut_in_place():
    blob = "A" * 10_000
    text = f"before\n{blob}\nafter"
    result = run("long_lines", text)
    assert result.text.split("\n")[0] == "before" and result.text.split("\n")[2] == "after"
    assert len(result.text) < 1000 and result.originals


def test_diff_context_trimming_renumbers_hunks():
    body = "\n".join(f" l{n}" for n in range(1, 30))
    diff = f"diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,31 +1,31 @@\n{body}\n-old\n+new\n l31\n l32"
    result = run("diff", diff, {"context": 1})
    assert "@@ -29,3 +29,3 @@" in result.text and " l5\n" not in result.text


def test_unknown_parameter_and_wrong_type_are_rejected():
    with pytest.raises(ValueError, match="no parameter"):
        resolve_params("log", {"nope": 1})
    with pytest.raises(TypeError):
        resolve_params("log", {"max_lines": "many"})
    with pytest.raises(KeyError, match="known"):
        resolve_params("zip", {})
