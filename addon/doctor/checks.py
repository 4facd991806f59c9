"""Every check ``headroom doctor`` runs, in the order it prints them.

A check is a function of the ``Context`` returning one ``Result`` or a list of them; to add one,
write it in a module of its own and list it here.
"""

from __future__ import annotations

from typing import Callable, Union

from headroom_mitm.addon.doctor.context import Context, Result
from headroom_mitm.addon.doctor.flows import check_database, check_recent_flows
from headroom_mitm.addon.doctor.install import check_package, check_rules
from headroom_mitm.addon.doctor.route import (
    check_agent_settings, check_environment, check_no_proxy, check_proxy, check_status_page,
)
from headroom_mitm.addon.doctor.subscriptions import check_subscriptions
from headroom_mitm.addon.doctor.trust import check_ca, check_trust_variables

Check = Callable[[Context], Union[Result, list[Result]]]

CHECKS: list[Check] = [
    check_environment,
    check_proxy,
    check_status_page,
    check_ca,
    check_trust_variables,
    check_no_proxy,
    check_agent_settings,
    check_recent_flows,
    check_subscriptions,
    check_database,
    check_rules,
    check_package,
]


def run_checks(context: Context, checks: list[Check] = CHECKS) -> list[Result]:
    results: list[Result] = []
    for check in checks:
        try:
            outcome = check(context)
        except Exception as exc:  # a check that breaks says so and the others still run
            outcome = Result(check.__name__.removeprefix("check_"), False, f"the check itself failed: "
                             f"{type(exc).__name__}: {exc}")
        results += outcome if isinstance(outcome, list) else [outcome]
    return results
