"""``headroom setup``: make every new shell and agent use the proxy, and take it back exactly.

Each step plans file changes (``edits``) or commands; ``apply`` writes them and keeps a record
under ``~/.headroom/`` of what each file was before, so ``--undo`` restores it byte for byte.
"""
