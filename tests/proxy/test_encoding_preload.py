"""The token encoding is loaded when the proxy starts, not by the first request that counts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TIKTOKEN_CACHE = Path(__file__).resolve().parents[3] / "shared" / "data" / "tiktoken"

# A fresh interpreter: this test process may have loaded the encoding already.
_SCRIPT = """
import sys, time
from mitmproxy.test import taddons
from headroom_mitm.addon import tokens
from headroom_mitm.addon.proxy import HeadroomAddon

addon = HeadroomAddon()
with taddons.context(addon) as tctx:
    tctx.configure(addon, headroom_db=sys.argv[1])
    deadline = time.monotonic() + 20
    while tokens._encoding is None and time.monotonic() < deadline:  # nothing here counts tokens
        time.sleep(0.05)
    print(tokens._encoding is not None)
addon.done()
"""


def test_configuring_the_addon_loads_the_encoding_on_a_thread_of_its_own(tmp_path):
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(TIKTOKEN_CACHE)}
    done = subprocess.run([sys.executable, "-c", _SCRIPT, str(tmp_path / "flows.db")], capture_output=True,
                          text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True"]
