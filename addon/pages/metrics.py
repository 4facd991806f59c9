"""``/metrics``: the proxy's counters in Prometheus' text format.

Counted here as each flow is handed to the flow log, from the same entry the log writes, so the
totals of a proxy's own log match them: requests, tokens before and after compression (over flows
where both were counted, as ``headroom stats`` sums them), the provider's usage, billed and saved
USD, cache misses by cause, latency, bodies the addon could not process, and entries the log
could not write.
"""

from __future__ import annotations

from typing import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from headroom_mitm.addon.store.entries import FlowEntry

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# LLM calls take from a fraction of a second to minutes (long streamed answers).
LATENCY_BUCKETS_S = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)

_LABELS = ("provider", "model")


class FlowMetrics:
    """Counters per provider and model, plus gauges read at scrape time."""

    def __init__(self, log_counts: Callable[[], tuple[int, int]], info: Callable[[], dict[str, str]]) -> None:
        self._registry = CollectorRegistry()
        registry = self._registry

        def counter(name: str, text: str) -> Counter:
            return Counter(name, text, _LABELS, registry=registry)

        self.requests = counter("headroom_requests", "Provider calls seen by the proxy.")
        self.tokens_before = counter(
            "headroom_tokens_before", "Request tokens as the agent sent them (flows where both counts are known)."
        )
        self.tokens_after = counter("headroom_tokens_after", "Request tokens as they went upstream.")
        self.tokens_saved = counter("headroom_tokens_saved", "Request tokens compression removed.")
        self.input_tokens = counter("headroom_usage_input_tokens", "Input tokens billed at the full rate.")
        self.output_tokens = counter("headroom_usage_output_tokens", "Output tokens billed.")
        self.cache_read_tokens = counter("headroom_cache_read_tokens", "Input tokens read from the prompt cache.")
        self.cache_write_tokens = counter("headroom_cache_write_tokens", "Input tokens written to the prompt cache.")
        self.billed_usd = counter("headroom_billed_usd", "USD the provider billed, at the price table's prices.")
        # a gauge: token mode's checkpoints can make a request save less than nothing
        self.saved_usd = Gauge("headroom_saved_usd", "USD compression saved, estimated (README); can go down.",
                               _LABELS, registry=registry)
        self.saved_billed_tokens = counter(
            "headroom_saved_billed_tokens", "Request tokens compression removed, in the provider's count.")
        self.unpriced = counter("headroom_unpriced_requests", "Requests with usage whose model has no price.")
        self.cache_misses = Counter("headroom_cache_misses", "Prompt-cache misses by cause.",
                                    (*_LABELS, "cause"), registry=registry)
        self.rewrite_errors = counter(
            "headroom_rewrite_errors", "Request bodies the addon could not process (forwarded unmodified)."
        )
        self.latency = Histogram(
            "headroom_request_latency_seconds", "Time from request to the end of the response.",
            _LABELS, buckets=LATENCY_BUCKETS_S, registry=registry,
        )
        registry.register(_ScrapeTimeValues(log_counts, info))

    def observe(self, entry: FlowEntry, rewrite_error: bool) -> None:
        labels = (entry.provider or "", entry.model or "")
        self.requests.labels(*labels).inc()
        if entry.tokens_before is not None and entry.tokens_after is not None:
            self.tokens_before.labels(*labels).inc(entry.tokens_before)
            self.tokens_after.labels(*labels).inc(entry.tokens_after)
            self.tokens_saved.labels(*labels).inc(max(0, entry.tokens_before - entry.tokens_after))
        for counter, value in (
            (self.input_tokens, entry.usage_input),
            (self.output_tokens, entry.usage_output),
            (self.cache_read_tokens, entry.usage_cache_read),
            (self.cache_write_tokens, entry.usage_cache_write),
        ):
            if value:
                counter.labels(*labels).inc(value)
        if entry.cost_usd is not None:
            self.billed_usd.labels(*labels).inc(entry.cost_usd)
            self.saved_usd.labels(*labels).inc(entry.saved_usd or 0.0)
            self.saved_billed_tokens.labels(*labels).inc(entry.saved_tokens or 0)
        elif entry.usage_input is not None:
            self.unpriced.labels(*labels).inc()
        if entry.cache_miss:
            self.cache_misses.labels(*labels, entry.cache_miss).inc()
        if rewrite_error:
            self.rewrite_errors.labels(*labels).inc()
        if entry.latency_ms is not None:
            self.latency.labels(*labels).observe(entry.latency_ms / 1000)

    def render(self) -> bytes:
        return generate_latest(self._registry)


class _ScrapeTimeValues:
    """Values that live elsewhere (the flow log's writer, the settings), read at each scrape."""

    def __init__(self, log_counts: Callable[[], tuple[int, int]], info: Callable[[], dict[str, str]]) -> None:
        self._log_counts = log_counts
        self._info = info

    def collect(self):
        failed, dropped = self._log_counts()
        failures = CounterMetricFamily(
            "headroom_flow_log_failures", "Flows the flow log could not write (failed or dropped).", labels=["reason"]
        )
        failures.add_metric(["failed"], failed)
        failures.add_metric(["dropped"], dropped)
        yield failures
        info = self._info()
        gauge = GaugeMetricFamily("headroom_info", "The proxy's version and mode.", labels=sorted(info))
        gauge.add_metric([info[key] for key in sorted(info)], 1)
        yield gauge
