"""Load with ``mitmdump -s headroom_addon.py``: the addon itself lives in the installed ``headroom_mitm.addon`` package."""

from headroom_mitm.addon.proxy import HeadroomAddon

addons = [HeadroomAddon()]
