"""The memo forgets the least recently used work first, by count and by size."""

from __future__ import annotations

from headroom_mitm.addon.memo import LruMemo


def test_the_least_recently_used_entry_goes_first():
    memo: LruMemo[str] = LruMemo(2)
    memo.put("a", "1")
    memo.put("b", "2")
    assert memo.get("a") == "1"
    memo.put("c", "3")
    assert (memo.get("a"), memo.get("b"), memo.get("c")) == ("1", None, "3")
    assert (memo.hits, memo.misses) == (3, 1)


def test_a_size_budget_evicts_until_it_fits():
    memo: LruMemo[str] = LruMemo(100, max_weight=10, weigh=len)
    memo.put("a", "x" * 6)
    memo.put("b", "y" * 3)
    memo.put("b", "y" * 4)  # replacing an entry does not count it twice
    assert len(memo) == 2
    memo.put("c", "z" * 5)
    assert memo.get("a") is None and memo.get("b") == "yyyy" and memo.get("c") == "zzzzz"
