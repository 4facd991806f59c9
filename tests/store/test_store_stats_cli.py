"""``headroom stats`` on a log we fill ourselves."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from headroom_mitm.addon.cli import main
from headroom_mitm.addon.store import FlowEntry

from store_builders import record_all


def _flow(provider: str, model: str, before: int | None, after: int | None,
          **usage: int | float | str | datetime) -> FlowEntry:
    return FlowEntry(
        host="api.example.test",
        path="/v1/messages",
        provider=provider,
        model=model,
        status_code=200,
        tokens_before=before,
        tokens_after=after,
        **usage,  # type: ignore[arg-type]
    )


FLOWS = [
    _flow("anthropic", "claude-sonnet-4-5", 10_000, 4_000,
          usage_input=100, usage_cache_read=9_000, usage_cache_write=900, cost_usd=0.0123, saved_usd=0.004),
    _flow("anthropic", "claude-sonnet-4-5", 20_000, 12_000, usage_input=300, usage_cache_read=18_000,
          usage_cache_write=1_700, cost_usd=0.02, saved_usd=0.006, cache_miss="evicted"),
    # a model without a price: its usage counts, its dollars are unknown
    _flow("anthropic", "claude-haiku-4-5", 1_000, 1_000, usage_input=1_000),
    _flow("openai-responses", "gpt-5-codex", 5_000, 2_500, usage_input=2_000, usage_cache_read=3_000),
    # a request whose counts never arrived: counted as a request, not in the token sums
    _flow("openai-responses", "gpt-5-codex", None, None),
]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["stats", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_rows_add_up_per_provider_and_model(db_target: str, capsys: pytest.CaptureFixture[str]) -> None:
    record_all(db_target, FLOWS)

    code, out, _ = _run(capsys, db_target, "--json")

    assert code == 0
    report = json.loads(out)
    by_model = {(row["provider"], row["model"]): row for row in report["rows"]}
    sonnet = by_model[("anthropic", "claude-sonnet-4-5")]
    assert (sonnet["requests"], sonnet["tokens_before"], sonnet["tokens_after"]) == (2, 30_000, 16_000)
    assert sonnet["saved_percent"] == pytest.approx(100 * 14_000 / 30_000, abs=0.01)
    assert sonnet["cache_read_share"] == pytest.approx(27_000 / (400 + 27_000 + 2_600), abs=1e-4)
    codex = by_model[("openai-responses", "gpt-5-codex")]
    assert (codex["requests"], codex["tokens_before"], codex["tokens_after"]) == (2, 5_000, 2_500)
    haiku = by_model[("anthropic", "claude-haiku-4-5")]
    assert haiku["saved_percent"] == 0 and haiku["cache_read_share"] == 0
    total = report["total"]
    assert (total["requests"], total["tokens_before"], total["tokens_after"]) == (5, 36_000, 19_500)
    assert report["rows"][0]["requests"] >= report["rows"][-1]["requests"]


def test_the_table_shows_each_model_and_a_total(db_target: str, capsys: pytest.CaptureFixture[str]) -> None:
    record_all(db_target, FLOWS)

    code, out, _ = _run(capsys, db_target)

    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["provider", "model", "requests"]
    sonnet_line = next(line for line in lines if "claude-sonnet-4-5" in line)
    assert sonnet_line.split() == ["anthropic", "claude-sonnet-4-5", "2", "30,000", "16,000", "46.7%", "90.0%",
                                   "0.0323", "0.0100", "1", "evicted"]
    haiku_line = next(line for line in lines if "claude-haiku-4-5" in line)
    assert haiku_line.split()[-3:] == ["unknown", "unknown", "-"]
    total_line = lines[-1]
    assert total_line.split()[0] == "total" and "36,000" in total_line and "19,500" in total_line


def test_dollars_and_misses_add_up_and_an_unpriced_model_is_unknown(
        db_target: str, capsys: pytest.CaptureFixture[str]) -> None:
    record_all(db_target, FLOWS)
    _, out, _ = _run(capsys, db_target, "--json")
    report = json.loads(out)
    by_model = {(row["provider"], row["model"]): row for row in report["rows"]}
    sonnet = by_model[("anthropic", "claude-sonnet-4-5")]
    assert (sonnet["cost_usd"], sonnet["saved_usd"], sonnet["misses"]) == (0.0323, 0.01, {"evicted": 1})
    assert by_model[("anthropic", "claude-haiku-4-5")]["unpriced"] == 1
    assert report["total"]["cost_usd"] == pytest.approx(0.0323) and report["total"]["unpriced"] == 2
    _, table, _ = _run(capsys, db_target)
    assert table.splitlines()[-1].split()[-8:] == ["0.0323", "+", "unknown", "0.0100", "+", "unknown", "1", "evicted"]


def test_by_day_session_and_tool(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from headroom_mitm.addon.store import ToolCallEntry

    path = str(tmp_path / "flows.db")
    monday = datetime(2026, 11, 30, 12, tzinfo=timezone.utc)
    read = ToolCallEntry(session_id="s1", call_id="c1", tool="Read", arguments={}, output="x" * 400,
                         compressor="seen_lines+line_numbers", tokens_before=100, tokens_after=40, sent="x" * 160)
    grep = ToolCallEntry(session_id="s1", call_id="c2", tool="Grep", arguments={}, output="y")
    record_all(path, [
        _flow("anthropic", "claude-sonnet-4-5", 100, 60, usage_input=10, cost_usd=0.5, session_id="s1",
              started_at=monday, tool_calls=[read, grep]),
        _flow("anthropic", "claude-sonnet-4-5", 100, 60, usage_input=10, cost_usd=0.25, session_id="s2",
              started_at=monday + timedelta(days=1, hours=1)),
        _flow("anthropic", "claude-sonnet-4-5", 100, 60, usage_input=10, cost_usd=0.125, session_id="s1",
              started_at=monday + timedelta(days=1, hours=2)),
    ])
    _, out, _ = _run(capsys, path, "--json", "--by", "day")
    days = json.loads(out)["rows"]
    assert [(d["group"], d["requests"], d["cost_usd"]) for d in days] == [("2026-11-30", 1, 0.5), ("2026-12-01", 2, 0.375)]
    _, out, _ = _run(capsys, path, "--json", "--by", "session")
    assert {r["group"]: r["cost_usd"] for r in json.loads(out)["rows"]} == {"s1": 0.625, "s2": 0.25}
    _, out, _ = _run(capsys, path, "--json", "--by", "tool")
    tools = {r["tool"]: r for r in json.loads(out)["tools"]}
    assert (tools["Read"]["calls"], tools["Read"]["tokens_before"], tools["Read"]["tokens_after"]) == (1, 100, 40)
    assert tools["Read"]["compressors"] == {"seen_lines+line_numbers": 1}
    assert (tools["Grep"]["calls"], tools["Grep"]["compressed"]) == (1, 0)
    _, table, _ = _run(capsys, path, "--by", "day")
    assert table.splitlines()[0].split()[:3] == ["day", "(UTC)", "requests"]
    assert any(line.split()[:2] == ["2026-12-01", "2"] for line in table.splitlines())
    _, table, _ = _run(capsys, path, "--by", "tool")
    assert any(line.split()[:6] == ["Read", "1", "1", "100", "40", "60.0%"] for line in table.splitlines())


def test_since_leaves_out_older_flows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(tmp_path / "flows.db")
    old = _flow("anthropic", "claude-opus-4-1", 9_000, 1_000, started_at=datetime.now(timezone.utc) - timedelta(days=30))
    record_all(path, [old, *FLOWS])

    _, everything, _ = _run(capsys, path, "--json")
    _, recent, _ = _run(capsys, path, "--json", "--since", "7d")
    two_days_ago = (datetime.now(timezone.utc) - timedelta(days=2)).date().isoformat()
    _, by_date, _ = _run(capsys, path, "--json", "--since", two_days_ago)

    assert json.loads(everything)["total"]["requests"] == 6
    assert json.loads(recent)["total"]["requests"] == 5
    assert "claude-opus-4-1" not in {row["model"] for row in json.loads(recent)["rows"]}
    assert json.loads(by_date)["total"]["requests"] == 5


def test_an_empty_log_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(tmp_path / "flows.db")
    record_all(path, [])

    code, out, _ = _run(capsys, path)

    assert code == 0 and "no flows in" in out


def test_a_missing_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere" / "flows.db"

    code, out, err = _run(capsys, str(missing))

    assert code == 1 and out == ""
    assert f"no flow log at {missing}" in err and "Traceback" not in err
    assert not missing.exists()


def test_the_default_log_lives_under_headroom_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HEADROOM_HOME", str(tmp_path))
    code, _, err = _run(capsys)
    assert code == 1 and str(tmp_path / "flows.db") in err

    record_all(str(tmp_path / "flows.db"), FLOWS[:1])
    code, out, _ = _run(capsys, "--json")
    assert code == 0 and json.loads(out)["total"]["requests"] == 1


def test_a_file_that_is_not_a_flow_log_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n" * 50)

    code, _, err = _run(capsys, str(notes))

    assert code == 1 and "Traceback" not in err and "headroom stats:" in err
    assert notes.read_text() == "not a database\n" * 50


def test_a_bad_since_value_names_itself(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["stats", str(tmp_path / "flows.db"), "--since", "last tuesday"])
    assert exit_info.value.code == 2
    assert "last tuesday" in capsys.readouterr().err


def test_help_shows_a_real_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["stats", "--help"])
    assert "headroom stats flows.db --since 7d" in capsys.readouterr().out


def _agent_flow(agent: str, kind: str, rewritten: int, reason: str | None, bucket: str | None) -> FlowEntry:
    return FlowEntry(provider="anthropic", model="claude-sonnet-4-5", status_code=200, agent=agent,
                     credential_kind=kind, tool_outputs=1, tool_outputs_rewritten=rewritten,
                     unmodified_reason=reason, billing_bucket=bucket)


CREDENTIAL_FLOWS = [
    _agent_flow("claude-cli/2.1.197", "subscription", 0, "attested", "five_hour"),
    _agent_flow("claude-cli/2.1.200", "subscription", 0, "attested", "five_hour"),
    _agent_flow("claude-cli/2.1.200", "subscription", 0, "breaker", "overage"),
    _agent_flow("claude-cli/2.1.200", "api_key", 1, None, None),
    _agent_flow("claude-cli/2.1.200", "api_key", 0, None, None),
]


def test_requests_per_agent_and_credential_say_why_they_went_unmodified(
    db_target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    record_all(db_target, CREDENTIAL_FLOWS)

    _, out, _ = _run(capsys, db_target, "--json")
    _, table, _ = _run(capsys, db_target)

    rows = {(row["agent"], row["credential_kind"]): row for row in json.loads(out)["by_credential"]}
    assert set(rows) == {("claude-cli", "subscription"), ("claude-cli", "api_key")}  # versions pooled
    subscription = rows[("claude-cli", "subscription")]
    assert (subscription["requests"], subscription["compressed"]) == (3, 0)
    assert subscription["unmodified"] == {"attested": 2, "breaker": 1}
    assert subscription["buckets"] == {"five_hour": 2, "overage": 1}
    api_key = rows[("claude-cli", "api_key")]
    assert (api_key["compressed"], api_key["unmodified"]) == (1, {"nothing to rewrite": 1})
    line = next(line for line in table.splitlines() if line.startswith("claude-cli") and "subscription" in line)
    assert "2 attested, 1 breaker" in line and "2 five_hour, 1 overage" in line
