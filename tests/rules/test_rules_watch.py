"""The proxy follows edits to its rule file and survives broken ones."""

from __future__ import annotations

import logging
import os
from functools import partial

import pytest

from headroom_mitm.rules import RulesError, RulesWatcher, load_rules
from rules_fakes import FAKE_REGISTRY, write


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def edit(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # a visibly newer mtime


def watcher(path: str, clock: Clock) -> RulesWatcher:
    return RulesWatcher(path, loader=partial(load_rules, registry=FAKE_REGISTRY), clock=clock)


def test_an_edit_is_picked_up_after_the_interval(tmp_path):
    path, clock = write(tmp_path, "hosts: [one.example]\n"), Clock()
    rules = watcher(path, clock)
    assert "one.example" in rules.current().provider_hosts
    edit(path, "hosts: [two.example]\n")
    assert "one.example" in rules.current().provider_hosts  # not re-stat'ed within a second
    clock.now += 1.5
    assert "two.example" in rules.current().provider_hosts


def test_a_broken_edit_keeps_the_last_good_rules_and_warns_once(tmp_path, caplog):
    path, clock = write(tmp_path, "hosts: [one.example]\n"), Clock()
    rules = watcher(path, clock)
    edit(path, "hosts: [one.example]\nrules:\n  - compress: nope\n")
    with caplog.at_level(logging.DEBUG, logger="rules"):
        for _ in range(3):
            clock.now += 2
            assert "one.example" in rules.current().provider_hosts
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert f"{path}:3: unknown compressor 'nope'" in warnings[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    edit(path, "hosts: [fixed.example]\n")
    clock.now += 2
    assert "fixed.example" in rules.current().provider_hosts


def test_a_deleted_file_keeps_the_last_good_rules(tmp_path, caplog):
    path, clock = write(tmp_path, "hosts: [one.example]\n"), Clock()
    rules = watcher(path, clock)
    os.remove(path)
    clock.now += 2
    with caplog.at_level(logging.WARNING, logger="rules"):
        assert "one.example" in rules.current().provider_hosts
    assert "cannot read the rule file" in caplog.text


def test_a_broken_file_at_start_is_an_error(tmp_path):
    path = write(tmp_path, "rules: [{compress: nope}]\n")
    with pytest.raises(RulesError):
        watcher(path, Clock())
