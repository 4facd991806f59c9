"""Learn from the flow log: tool calls that failed, what worked instead, written as advice.

``learn.importers`` reads agent transcripts; ``learn.log`` stores and streams tool calls;
``learn.outcome`` and ``learn.episodes`` find failures and their recoveries within a session;
``learn.mine`` turns them into patterns with evidence; ``learn.write`` keeps the managed block in
CLAUDE.md, AGENTS.md and .cursor/rules/headroom.mdc; ``learn.cli`` is ``headroom learn`` and
``headroom import``.
"""
