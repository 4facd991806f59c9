"""Is compression off for some credential, and how to get it back: attested subscription
bodies the policy keeps, and breakers the provider's answers tripped."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from headroom_mitm.addon.doctor.context import Context, Result

WINDOW = timedelta(days=7)
_OPT_IN = ("run the agent with an API key (ANTHROPIC_API_KEY: billed per token, compressed in full), "
           "or opt in, at your own risk, with `credentials: [{credential: subscription, attested: true, "
           "policy: verify}]` in a rules file that extends the default (the breaker and the retry stay on)")


def check_subscriptions(context: Context) -> list[Result]:
    kept, trips = _read_log(context)
    health_trips = ((context.health or {}).get("breakers") or {}).get("tripped")
    if health_trips is not None:  # the running proxy knows best, this run's trips included
        trips = health_trips
    results = [
        Result("subscriptions", False,
               f"requests of {trip['credential_kind']} credential {trip['credential_id']} ({trip['provider']}) "
               f"pass unmodified since {trip['tripped_at'][:16].replace('T', ' ')} UTC: {trip['reason']}. "
               "Compression is off for that credential only; its requests go exactly as the client sends them.",
               f"nothing is needed to stay safe. To try compression again: headroom breaker reset "
               f"{trip['credential_id']}, then restart the proxy (it trips again at the next refusal); or {_OPT_IN}")
        for trip in trips
    ]
    if kept:
        results.append(Result("subscriptions", True,
                              f"{kept} subscription request{'s' if kept != 1 else ''} in the last 7 days carried "
                              f"their client's attestation "
                              f"and passed unmodified (policy keep): they are logged, not compressed. "
                              f"For compression: {_OPT_IN}."))
    if not results:
        results.append(Result("subscriptions", True, "no credential is kept from compression"))
    return results


def _read_log(context: Context) -> tuple[int, list[dict[str, Any]]]:
    from sqlalchemy import func, inspect, select

    from headroom_mitm.addon.store.breakers import active_breakers
    from headroom_mitm.addon.store.engine import is_url, make_engine
    from headroom_mitm.addon.store.models import Flow

    target = context.db_target
    if not is_url(target) and not Path(target).expanduser().is_file():
        return 0, []
    engine = make_engine(target)
    try:
        with engine.connect() as connection:
            if "unmodified_reason" not in {c["name"] for c in inspect(connection).get_columns("flows")}:
                return 0, []  # a log from before credentials were recorded
            kept = connection.execute(select(func.count(Flow.id)).where(
                Flow.unmodified_reason == "attested", Flow.started_at >= context.now - WINDOW)).scalar() or 0
            trips = [trip.as_dict() for trip in active_breakers(connection)]
    finally:
        engine.dispose()
    return int(kept), trips
