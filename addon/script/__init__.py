"""The file ``mitmdump -s`` loads from an installed package: ``headroom script`` prints its path.

It sits alone in this folder because mitmproxy puts a script's folder on ``sys.path``.
"""

from pathlib import Path

SCRIPT = Path(__file__).with_name("headroom_addon.py")
