"""Send a request upstream again, exactly as the client sent it, while its client still waits.

When the provider refuses a rewritten request before any byte of the answer reached the client,
the addon asks once more with the original bytes and hands the client that answer instead: the
agent never sees a refusal the proxy caused. The second request goes through mitmproxy's own
replay machinery, so it takes the same route as the first (upstream proxy mode, TLS settings,
other addons' ``server_connect`` hooks) and its answer is read whole.
"""

from __future__ import annotations

import logging

from mitmproxy import ctx, http
from mitmproxy.addons.clientplayback import ReplayHandler

logger = logging.getLogger(__name__)

RETRY_OF = "headroom_retry_of"
"""``flow.metadata`` key of the replayed copy: the addon forwards that flow untouched."""


async def send_original_again(flow: http.HTTPFlow, original: http.Request) -> http.Response | None:
    """The provider's answer to ``original``, or None when it could not be had (the caller then
    keeps the answer it has)."""
    again = flow.copy()
    again.request = original.copy()
    again.response = None
    again.error = None
    again.is_replay = "request"
    again.metadata[RETRY_OF] = flow.id
    try:
        await ReplayHandler(again, ctx.options).replay()
    except Exception:  # whatever happens, the client still gets the first answer
        logger.warning("could not send a refused request again with its original bytes", exc_info=True)
        return None
    if again.error is not None or again.response is None:
        logger.warning("sending a refused request again with its original bytes failed: %s",
                       again.error.msg if again.error else "no answer")
        return None
    return again.response


def is_retry(flow: http.HTTPFlow) -> bool:
    return RETRY_OF in flow.metadata
