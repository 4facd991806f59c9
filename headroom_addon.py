"""Load with ``mitmdump -s headroom_addon.py``: the addon itself lives in the installed ``addon`` package."""

from addon.proxy import HeadroomAddon

addons = [HeadroomAddon()]
