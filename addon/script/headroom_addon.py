"""Load with ``mitmdump -s "$(headroom script)"``: the addon itself lives in ``headroom_mitm.addon``."""

from headroom_mitm.addon.proxy import HeadroomAddon

addons = [HeadroomAddon()]
