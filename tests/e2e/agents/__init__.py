"""Real coding agents in end-to-end tests: installed once, run as a user runs them, through mitmdump.

- :mod:`.install` — ``installed_or_skip(CLAUDE_CODE | CODEX | MINI_SWE_AGENT)``: the pinned CLI from
  the cache (``$HEADROOM_TEST_CACHE`` or ``~/.cache/headroom-mitm-tests``), installed on first use.
- :mod:`.clis` — ``ClaudeCode``, ``Codex``, ``MiniSweAgent``: HOME, login, command line and
  variables of one unattended task; ``Credential`` makes fake keys and tokens of each kind;
  ``proxy_env`` is what a user of the proxy sets; ``run_agent`` runs one bounded task.
- :mod:`.session` — ``run_session(fake, agent, prompt, workdir, turns=..., proxy=...)``: scripts
  the fake (:mod:`..scripted_model`), runs the agent, returns an ``AgentSession`` with everything
  the fake saw.
- :mod:`.workspace` — ``make_workspace(folder)``: a small git project and ``COMMANDS`` to run there.
- :mod:`.headroom_setup` — ``run_headroom_setup(home, proxy, ...)``: ``headroom setup`` in an agent's HOME.
- :mod:`.checks` — assertions: outputs resent unchanged, a credential not stored, flow rows.
- :mod:`.fixtures` — ``claude_code_cli``, ``codex_cli``, ``mini_swe_agent_cli``, ``workspace``,
  ``agent_session``, ``described_on_failure`` (available to every e2e test).
"""
