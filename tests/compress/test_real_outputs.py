"""The compressors on real Claude Code and mini-swe-agent tool outputs."""

from __future__ import annotations


from headroom_mitm.addon.compress import REGISTRY, Context, detect_kind, run
from headroom_mitm.addon.compress.markers import MARKER_RE, parse_marker, ref_of
from headroom_mitm.addon.tokens import count_tokens


def _ctx(output) -> Context:
    return Context(tool_name=output.tool_name, arguments=output.arguments, call_id=output.call_id,
                   earlier_outputs=output.earlier_outputs, earlier_reads=output.earlier_reads)


def test_every_claude_code_read_shrinks_and_restores_exactly(trace_outputs):
    reads = [o for o in trace_outputs if o.tool_name == "Read" and "→" in o.text]
    assert reads
    before = after = 0
    for output in reads:
        compressed = run("line_numbers", output.text).text
        assert REGISTRY["line_numbers"].restore(compressed) == output.text
        before, after = before + len(output.text), after + len(compressed)
    assert after < 0.85 * before


def test_numbered_reads_say_where_numbering_starts(trace_outputs):
    output = next(o for o in trace_outputs if o.tool_name == "Read" and o.text.startswith("     1→"))
    first_line = run("line_numbers", output.text).text.split("\n", 1)[0]
    assert parse_marker(first_line).detail.startswith("numbered 1-")


def test_every_real_output_survives_every_compressor(trace_outputs):
    for output in trace_outputs[::7]:
        for name, spec in REGISTRY.items():
            result = run(name, output.text, None, _ctx(output))
            assert len(result.text) <= len(output.text) or count_tokens(result.text) < count_tokens(output.text)
            if spec.lossless and name != "json_table":
                assert spec.restore(result.text) == output.text, (name, output.call_id)
            for found in MARKER_RE.finditer(result.text):
                if found["ref"] and found.group(0) not in output.text:
                    assert any(ref_of(original) == found["ref"] for original in result.originals), name


def test_a_repeated_read_refers_back_to_the_earlier_call(trace_outputs):
    repeated = [o for o in trace_outputs if o.tool_name == "Read" and
                o.earlier_reads.get(o.arguments.get("file_path"), ("", None))[1] == o.text]
    assert repeated
    output = repeated[0]
    result = run("reread", output.text, None, _ctx(output))
    earlier_call = output.earlier_reads[output.arguments["file_path"]][0]
    assert earlier_call in result.text and result.originals == (output.text,)


def test_pytest_output_keeps_failures_and_summary(trace_outputs):
    failing = [o for o in trace_outputs if detect_kind(o.text, o.tool_name) == "test" and " failed" in o.text]
    assert failing
    for output in failing:
        compressed = run("log", output.text).text
        for line in output.text.split("\n"):
            if line.startswith(("FAILED ", "E   ")) or (line.startswith("=") and " failed" in line):
                assert line in compressed or line.replace("\x1b", "") in compressed


def test_mini_swe_agent_wrapper_stays_byte_exact(trace_outputs):
    for output in [o for o in trace_outputs if o.source == "mini-swe-agent" and "<output>" in o.text][:200]:
        compressed = run("log", output.text).text
        assert compressed.startswith(output.text.split("<output>", 1)[0] + "<output>")
        assert compressed.endswith("</output>") == output.text.endswith("</output>")
