"""The proxy's own pages at ``http://headroom.invalid/`` (health, stats, metrics), and how the
command line finds a running proxy through them. ``site.StatusPages`` is the addon side."""

from headroom_mitm.addon.pages.host import STATUS_HOST, is_status_host

__all__ = ["STATUS_HOST", "is_status_host"]
