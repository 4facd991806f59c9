"""Headroom for mitmproxy: compresses agents' tool outputs in flight and logs every provider call."""

__version__ = "0.1.0"
