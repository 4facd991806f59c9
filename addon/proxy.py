"""The mitmproxy addon: intercept provider calls, compress their tool outputs, log every flow.

Hooks stay thin: they decide whether a flow is ours, hand CPU work to one worker thread (so a
large rewrite never stalls other connections on the shared event loop), and keep per-flow state
in a dict keyed by flow id (``flow.metadata`` must stay serialisable for ``mitmdump -w``).
Every failure path leaves the flow exactly as the client sent it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from mitmproxy import ctx, exceptions, http, tls

from headroom_mitm.addon import providers
from headroom_mitm.addon.billing import billing_from_headers, refusal_in
from headroom_mitm.addon.billing_guard import BillingGuard
from headroom_mitm.addon.bounded_decode import BodyTooLarge, decode_bounded
from headroom_mitm.addon.flow_entry import build_entry
from headroom_mitm.addon.cost import options as cost_options
from headroom_mitm.addon.cost.flow_cost import CostKeeper
from headroom_mitm.addon.cost.limits import Limits, period_start, refusal_body
from headroom_mitm.addon.flow_state import FlowState
from headroom_mitm.addon.hosts import DEFAULT_PROVIDER_HOSTS, HostMatcher, destination_host
from headroom_mitm.addon.options import DECLARATIONS, Settings, parse_settings
from headroom_mitm.addon.pages import is_status_host
from headroom_mitm.addon.pages.site import StatusPages
from headroom_mitm.addon.prefix_reuse import PrefixReuse
from headroom_mitm.addon.redact import redact_url_path
from headroom_mitm.addon.request_body import RequestBody, process_request_body
from headroom_mitm.addon.retry import is_retry, send_original_again
from headroom_mitm.addon.stream_tap import StreamTap
from headroom_mitm.addon.tokens import load_in_background

if TYPE_CHECKING:  # the log's database layer loads when a log is opened
    from headroom_mitm.addon.store.writer import FlowLog

logger = logging.getLogger(__name__)

LOG_DRAIN_TIMEOUT_S = 10.0
LARGE_BODY_BYTES = 4_000_000
"""Bodies above this go to the large-body worker: Claude Code's longest sessions stay below it."""
REWRITE_BUDGET_S = 3.0
"""Past this much work on one body, it goes upstream as the client sent it (its flow row says so)."""


class HeadroomAddon:
    """Compresses the tool outputs agents resend to LLM providers and logs every provider flow."""

    def __init__(self) -> None:
        self.settings: Settings | None = None
        self._rules = None  # rules.RulesWatcher once configured
        self._flow_log = None  # addon.store.writer.FlowLog once configured
        self._host_matcher = HostMatcher(DEFAULT_PROVIDER_HOSTS)
        self._hosts_from = None  # the RuleSet the matcher was built from
        self._flows: dict[str, FlowState] = {}
        self._price_files: tuple[tuple[str, str], ...] = ()
        self._costs: CostKeeper | None = None
        self._costs_from: tuple[object, object] | None = None  # (rule prices, price files) it was built from
        self._limits = Limits()
        self.guard = BillingGuard()
        # Rewrites run off the event loop, one at a time per worker (the memos they share are
        # locked); a large body has a worker of its own, so no other client's request queues
        # behind it.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="headroom-rewrite")
        self._large_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="headroom-rewrite-large")
        # One more: flows become log entries in the order they ended, off the event loop.
        self._log_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="headroom-log")
        # the previous request of each recent conversation: the next one works on its new turns only
        self._reuse = PrefixReuse()
        # http://headroom.invalid/: a nested addon (mitmproxy calls its hooks after ours)
        self.pages = StatusPages(lambda: self.settings, lambda: self._flow_log)
        self.pages.health.add("breakers", self.guard.health)
        self.addons = [self.pages]

    # ---- lifecycle -------------------------------------------------------------------------

    def load(self, loader) -> None:
        for name, typespec, default, help_text in DECLARATIONS + cost_options.DECLARATIONS:
            loader.add_option(name, typespec, default, help_text)

    def configure(self, updated: set[str]) -> None:
        if "headroom_prices" in updated:
            self._price_files = cost_options.price_file(ctx.options.headroom_prices)
        if updated & cost_options.LIMIT_OPTIONS:
            opts = ctx.options
            self._limits = cost_options.limits_from(opts.headroom_budget, opts.headroom_rpm, opts.headroom_tpm)
            self._seed_spend()
        if not updated & {"headroom_db", "headroom_rules", "headroom_mode", "stream_large_bodies"}:
            return
        opts = ctx.options
        try:
            settings = parse_settings(opts.headroom_db, opts.headroom_rules, opts.headroom_mode)
            rules_changed = self.settings is None or settings.rules != self.settings.rules
            if rules_changed:
                self._rules = _load_rules(settings.rules)
        except exceptions.OptionsError as exc:
            if self.settings is not None:
                raise  # a later change is refused in one line, and the settings in force stay
            # mitmproxy prints an error raised while it loads the script with every traceback
            # of its chain; logged as an error, it stops mitmdump at startup all the same
            logger.error("headroom: %s", exc)
            return
        if self.settings is None:
            load_in_background()  # the first request need not wait for the encoding
        if rules_changed and not self._rules.current().rules:
            logger.warning("headroom: %s holds no rules: compression is off, tool outputs are "
                           "forwarded unchanged (flows are still logged)", settings.rules)
        if self.settings is None or settings.db != self.settings.db:
            self._open_flow_log(settings.db)
        self.settings = settings
        streamed_above = opts.stream_large_bodies if "stream_large_bodies" in opts else None
        if streamed_above:
            logger.warning(
                "stream_large_bodies=%s: request bodies larger than that reach providers uncompressed",
                streamed_above,
            )

    def _open_flow_log(self, db: str) -> None:
        from headroom_mitm.addon.store.writer import FlowLog

        from headroom_mitm.addon.store.breakers import active_breakers

        if self._flow_log is not None:
            self._drain_log_thread()
            self._flow_log.close()
        self._flow_log = FlowLog(db)
        self._flow_log.start()
        self._seed_spend()
        # a credential refused in an earlier run stays unmodified in this one
        trips = self._flow_log.read(active_breakers) or []
        self.guard.restore(trips)
        for trip in trips:
            logger.warning("headroom: requests of %s credential %s (%s) pass unmodified: %s "
                           "(since %s; `headroom breaker reset %s` re-arms it)", trip.credential_kind,
                           trip.credential_id, trip.provider, trip.reason,
                           f"{trip.tripped_at:%Y-%m-%d %H:%M} UTC", trip.credential_id)

    def done(self) -> None:
        self._drain_log_thread()
        self._log_worker.shutdown(wait=False)
        if self._flow_log is not None:
            self._flow_log.close()
        self._worker.shutdown(wait=False, cancel_futures=True)
        self._large_worker.shutdown(wait=False, cancel_futures=True)

    def _worker_for(self, size: int) -> ThreadPoolExecutor:
        return self._large_worker if size > LARGE_BODY_BYTES else self._worker

    # ---- which connections are ours ----------------------------------------------------------

    def _is_provider(self, host: str | None) -> bool:
        """Host matching follows the rules file: an edit that adds a host applies at once."""
        if self._rules is not None:
            rules = self._rules.current()
            if rules is not self._hosts_from:
                self._host_matcher = HostMatcher(rules.provider_hosts)
                self._hosts_from = rules
        return self._host_matcher(host)

    def tls_clienthello(self, data: tls.ClientHelloData) -> None:
        """Any TLS connection not to a provider is passed through raw: we never see inside it."""
        sni = data.client_hello.sni
        if not self._is_provider(sni) and not is_status_host(sni):  # the addon answers that one
            data.ignore_connection = True

    def _ours(self, flow: http.HTTPFlow) -> bool:
        # Plain-HTTP proxy requests are never ignored by tls_clienthello: check the host here too.
        return self._is_provider(destination_host(flow)) and self.settings is not None

    # ---- requests ----------------------------------------------------------------------------

    async def request(self, flow: http.HTTPFlow) -> None:
        if flow.response or flow.error or not flow.live or is_retry(flow):
            return
        if await self.pages.answer(flow) or not self._ours(flow):
            return
        wire = providers.for_request(destination_host(flow), flow.request.path)
        state = FlowState.begin(flow, wire, self.settings.mode)
        self._flows[flow.id] = state
        if wire is None or flow.request.method != "POST" or not flow.request.raw_content:
            return
        if _is_signed(flow.request.headers):
            state.note("signed body: forwarded unmodified")
            return
        try:
            raw = decode_bounded(flow.request.raw_content, flow.request.headers.get("content-encoding", ""))
        except BodyTooLarge as exc:
            state.note(f"{exc}: forwarded unmodified")
            logger.warning("headroom: a %s request to %s was forwarded unmodified: its %s",
                           wire.name, state.host, exc)
            return
        except ValueError as exc:
            state.note(f"undecodable body: {exc}")
            return
        state.request_bytes = len(raw)
        rules = self._rules.current()
        permit = self.guard.permit(state.credential, wire.name, rules.credentials)
        loop = asyncio.get_running_loop()
        result: RequestBody = await loop.run_in_executor(
            self._worker_for(len(raw)), process_request_body, raw, wire, rules, self.settings.mode, False, permit,
            self._reuse, REWRITE_BUDGET_S,
        )
        state.absorb(result)
        if self._limits.active and self._refuse_over_limit(flow, state):
            return
        if result.new_body is not None and flow.live:
            state.original_request = flow.request.copy()
            flow.request.set_content(result.new_body)

    # ---- responses ---------------------------------------------------------------------------

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        state = self._flows.get(flow.id)
        if state is None or state.wire is None or flow.response is None:
            return
        state.billing = billing_from_headers(flow.response.headers.items(multi=True))
        if flow.response.status_code >= 400:
            return  # an error is read whole: a refusal of a rewritten request is sent again
        if _looks_streamed(flow) and flow.response.stream is False:
            parser = state.start_stream()
            flow.response.stream = StreamTap(parser, flow.response.headers.get("content-encoding", ""))

    async def response(self, flow: http.HTTPFlow) -> None:
        state = self._flows.pop(flow.id, None)
        if state is None:
            return
        if flow.websocket is not None:
            self._flows[flow.id] = state  # the conversation goes on over the socket
            return
        await self._judge_billing(flow, state)
        state.finish_http(flow)
        self._record(state)
        _hide_url_secrets(flow)

    def error(self, flow: http.HTTPFlow) -> None:
        """A flow that ended without a whole answer (the provider dropped the connection, the
        client hung up) is logged with what was read of it and why it ended."""
        if flow.websocket is not None:
            return  # websocket_end logs a socket's turns
        state = self._flows.pop(flow.id, None)
        if state is None:
            return
        reason = flow.error.msg if flow.error is not None else "unknown"
        state.finish_http(flow)
        if state.parser is not None:
            state.fail(f"stream ended early: {reason}")
        elif flow.response is None:
            state.fail(f"no answer: {reason}")
        else:
            state.fail(f"answer ended early: {reason}")
        self._record(state)
        _hide_url_secrets(flow)

    async def _judge_billing(self, flow: http.HTTPFlow, state: FlowState) -> None:
        """A rewritten request refused as third-party is asked again as the client sent it; the
        client gets that answer."""
        original, state.original_request = state.original_request, None
        response = flow.response
        if response is None or state.wire is None:
            return
        if response.stream is False:
            state.refusal = refusal_in(response.status_code, response.get_content(strict=False))
        if state.refusal and state.rewritten and original is not None and flow.live:
            answer = await send_original_again(flow, original)
            if answer is not None:
                state.retried = True
                state.note("refused as rewritten; sent again with the client's original bytes")
                flow.response = answer
                state.billing = billing_from_headers(answer.headers.items(multi=True))
                answered = refusal_in(answer.status_code, answer.get_content(strict=False)) is None
                self._settle(state, state.wire.name, status=answer.status_code, original_answered=answered)
                return
        self._settle(state, state.wire.name, status=response.status_code)

    def _settle(self, state: FlowState, provider: str, *, status: int | None,
                original_answered: bool | None = None) -> None:
        """Feeds the breaker what the provider billed. After a refused rewrite was sent again
        (``original_answered`` is not None), only an answer to the original bytes proves the
        rewrite was the cause: a plan really out of usage refuses both, and trips nothing."""
        if original_answered is None:
            state.trip = self.guard.observe(state.credential, provider, rewritten=state.rewritten,
                                            status=status, signal=state.billing, refusal=state.refusal)
            return
        if original_answered:
            state.trip = self.guard.observe(state.credential, provider, rewritten=True, status=None,
                                            signal=None, refusal=state.refusal)
        self.guard.observe(state.credential, provider, rewritten=False, status=status,
                           signal=state.billing, refusal=None)

    # ---- Codex's WebSocket -------------------------------------------------------------------

    async def websocket_message(self, flow: http.HTTPFlow) -> None:
        state = self._flows.get(flow.id)
        if state is None or state.wire is None or flow.websocket is None:
            return
        message = flow.websocket.messages[-1]
        if not message.is_text or message.injected:
            return  # an injected message is a turn sent again as the client sent it
        if not message.from_client:
            refused = state.ws_refused_turn(message.content)
            if refused is not None:
                # nothing of this turn reached the client yet: ask again with the client's bytes
                message.drop()
                ctx.master.commands.call("inject.websocket", flow, False, refused.original_message)
                return
            finished = state.ws_server_event(message.content)
            if finished is not None:
                self._settle(finished, state.wire.name, status=200 if finished.completed else None,
                             original_answered=finished.completed if finished.retried else None)
                self._record(finished)
            return
        turn = state.ws_client_message(message.content)
        if turn is None:
            return
        loop = asyncio.get_running_loop()
        rules = self._rules.current()
        permit = self.guard.permit(state.credential, state.wire.name, rules.credentials)
        result: RequestBody = await loop.run_in_executor(
            self._worker_for(len(message.content)), process_request_body, message.content, state.wire, rules,
            self.settings.mode, state.retrieval, permit, self._reuse, REWRITE_BUDGET_S,
        )
        state.retrieval = state.retrieval or result.retrieval  # later turns do not list the tools again
        turn.absorb(result)
        if result.new_body is not None:
            turn.original_message = message.content
            message.content = result.new_body

    def websocket_end(self, flow: http.HTTPFlow) -> None:
        state = self._flows.pop(flow.id, None)
        if state is None:
            return
        for pending in state.ws_close():
            self._record(pending)

    # ---- the log -----------------------------------------------------------------------------

    # ---- budgets and rate limits ------------------------------------------------------------

    def _refuse_over_limit(self, flow: http.HTTPFlow, state: FlowState) -> bool:
        """Answers a request over a budget or rate with the provider's own 429; it is logged
        with the limit that refused it and never goes upstream."""
        assert state.wire is not None
        tokens = state.body.tokens_after or 0
        refusal = self._limits.check(state.wire.name, tokens, state.started_at, time.monotonic())
        if refusal is None:
            return False
        body, headers = refusal_body(state.wire.name, refusal)
        flow.response = http.Response.make(429, body, headers)
        self._flows.pop(flow.id, None)
        state.limited = refusal.reason
        state.finish_http(flow)
        self._record(state)
        return True

    def _seed_spend(self) -> None:
        if self._flow_log is None or not self._limits.budgets:
            return
        from headroom_mitm.addon.store.queries import spend_since

        since = period_start("month", datetime.now(timezone.utc))
        self._limits.seed(self._flow_log.read(lambda connection: spend_since(connection, since)) or [])

    def _cost_keeper(self) -> CostKeeper:
        """Follows the rule file's prices: an edit applies at once; conversations are kept."""
        rule_prices = self._rules.current().prices if self._rules is not None else {}
        source = (rule_prices, self._price_files)
        if self._costs is None or self._costs_from is None or any(
                a is not b for a, b in zip(self._costs_from, source)):
            table = cost_options.price_table(self._price_files, rule_prices)
            if self._costs is None:
                self._costs = CostKeeper(table)
            self._costs.prices = table
            self._costs_from = source
        return self._costs

    def _record(self, state: FlowState) -> None:
        """Hands the flow to the log thread: its entry holds every tool call of the conversation
        and the log's dedupe looks each one up, work that grows with the conversation and must
        not hold the event loop."""
        if self._flow_log is None:
            return
        try:
            keeper = self._cost_keeper()
            self._log_worker.submit(self._queue_entry, state, keeper, self._flow_log)
        except Exception:  # logging must never break traffic
            logger.warning("could not queue a flow for the log", exc_info=True)

    def _queue_entry(self, state: FlowState, keeper: CostKeeper, flow_log: FlowLog) -> None:
        try:
            entry = build_entry(state)
            keeper.settle(entry, state.body.cost)
            if entry.cost_usd:  # on this thread, before the row can be read: a budget sees it first
                self._limits.spend(entry.provider, entry.cost_usd, entry.started_at)
            # the log queues only the calls and originals it has not logged yet
            flow_log.record(entry)
            self.pages.observe(entry, rewrite_error=state.body.error is not None)
        except Exception:  # logging must never break traffic
            logger.warning("could not queue a flow for the log", exc_info=True)

    def _drain_log_thread(self) -> None:
        """Wait (a bounded while) for the flows handed to the log thread to reach the log."""
        try:
            self._log_worker.submit(lambda: None).result(timeout=LOG_DRAIN_TIMEOUT_S)
        except Exception:
            logger.warning("flow log: flows handed over were not all queued in %ss", LOG_DRAIN_TIMEOUT_S)


def _load_rules(path: str | None):
    from headroom_mitm.rules import RulesError, RulesWatcher

    try:
        return RulesWatcher(path)
    except (RulesError, OSError) as exc:
        raise exceptions.OptionsError(f"headroom_rules={path!r}: {exc}") from exc


def _hide_url_secrets(flow: http.HTTPFlow) -> None:
    """Once the provider has answered, the flow mitmproxy keeps and prints (its console line
    cuts a long URL anywhere, the start of a ``?key=`` included) no longer holds the key."""
    path = flow.request.path
    if "?" in path:
        hidden = redact_url_path(path)
        if hidden != path:
            flow.request.path = hidden


def _is_signed(headers: http.Headers) -> bool:
    """A SigV4-signed body (AWS Bedrock) covers the bytes: rewriting it breaks the signature."""
    authorization = headers.get("authorization", "")
    return authorization.startswith("AWS4-HMAC-SHA256") or "x-amz-content-sha256" in headers


def _looks_streamed(flow: http.HTTPFlow) -> bool:
    content_type = flow.response.headers.get("content-type", "")
    if content_type.startswith("text/event-stream"):
        return True
    # Gemini streams a JSON array unless asked for SSE: follow it as it comes, too.
    return ":streamGenerateContent" in flow.request.path
