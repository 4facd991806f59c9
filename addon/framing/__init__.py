"""Outputs wherever an agent puts them: in a tool result, framed in JSON, or as a plain message.

Agents without tool calls (mini-swe-agent's text config, SWE-agent, aider) send a command's
output as a user message answering the assistant turn that held the command; others wrap it in
text or JSON inside a tool result (``{"returncode": 1, "output": "..."}``, Gemini CLI's
``Exit Code: 1`` trailer). A ``Framing`` says one such shape; ``framed_outputs`` turns a body's
tool results and messages into the neutral ``ToolOutput`` rules and compressors work on, with
the exit code the framing states. A ``Framing`` is part of the rule language (``rules/framing_shape.py``):
``rules/framing_builtin.py`` lists the shapes known out of the box, and a rule file can add more
(``framings:``, see rules/README.md).
"""

from headroom_mitm.addon.framing.outputs import Message, framed_outputs, recognise, text_call_id
from headroom_mitm.rules.framing_builtin import BUILTIN_FRAMINGS
from headroom_mitm.rules.framing_shape import Framed, Framing, JsonFrame, Piece, TextFrame

__all__ = [
    "BUILTIN_FRAMINGS",
    "Framed",
    "Framing",
    "JsonFrame",
    "Message",
    "Piece",
    "TextFrame",
    "framed_outputs",
    "recognise",
    "text_call_id",
]
