"""``python -m headroom_mitm.addon.cli``: the ``headroom`` command without its script on PATH."""

import sys

from headroom_mitm.addon.cli import main

sys.exit(main())
