"""``headroom doctor``: is traffic really going through Headroom? Each check says ✓ or ✗ and,
for ✗, the exact fix. ``checks.CHECKS`` lists them; a new check is one function added there."""
