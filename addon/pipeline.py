"""One request body through the rules and the compressors: the same path for the proxy and the CLI.

``compress_body`` finds the tool outputs a wire format sees in a body, asks the rules what to do
with each, runs the chosen compressors and writes the new texts back, touching no other byte.

Cache safety: in ``cache`` mode everything that decides an output's new text (its text, call,
the rules, and the outputs *before* it in the body) is the same in every later request of the
conversation, so each request repeats the bytes of the one before. Only ``token`` mode looks
at later turns (stale, superseded and idle outputs, the age of an output) and so may change
earlier bytes, at checkpoints only (``addon/token_mode.py``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import logging
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping, Sequence

from headroom_mitm.addon import token_mode
from headroom_mitm.addon.budget import Deadline
from headroom_mitm.addon.framing import outputs as framing_outputs
from headroom_mitm.addon.compress import REGISTRY
from headroom_mitm.addon.compress._base import Compressed, CompressorSpec, Context, not_longer
from headroom_mitm.addon.compress.kinds import detect_kind
from headroom_mitm.addon.memo import LruMemo
from headroom_mitm.addon.modes import MODES, Mode
from headroom_mitm.addon.providers._base import WireFormat
from headroom_mitm.addon.retrieval import announced_at, is_retrieve_tool
from headroom_mitm.addon.tokens import count_tokens
from headroom_mitm.addon.tool_output import JsonPath, ToolOutput
from headroom_mitm.rules import Decision, RuleSet

logger = logging.getLogger(__name__)

_RESULTS: LruMemo["_Result"] = LruMemo(8192, max_weight=64_000_000,
                                       weigh=lambda result: len(result.text) + sum(map(len, result.originals)))
"""(text, compressors, call, the earlier outputs that matter) -> the work's result."""
_KINDS: LruMemo[tuple[str, int]] = LruMemo(16384)
"""(text, tool, arguments) -> (content kind, tokens)."""
_FACTS: LruMemo["_Facts"] = LruMemo(16384, max_weight=64_000_000,
                                    weigh=lambda facts: len(facts.text) + len(facts.arguments_key))
"""(call id or path, part, tool, error flag, text length) -> what is known of that output.

Every request of a conversation resends all earlier outputs as new objects; finding last
request's facts by this cheap key, then checking text and arguments for equality (a memory
compare, no hashing), spares the sha256, the canonical JSON and the kind and token count."""
_reported_failures: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class OutputReport:
    """What happened to one tool output."""

    output: ToolOutput
    kind: str
    decision: Decision
    tokens_before: int
    tokens_after: int
    text: str
    """The text sent upstream (the original when unchanged)."""
    changed: bool
    note: str = ""
    """Why an output the rules wanted compressed was not, or what token mode did instead."""

    @property
    def rule(self) -> str:
        return self.decision.rule

    @property
    def compressor(self) -> str | None:
        return self.decision.compressor if self.decision.action == "compress" else None

    @property
    def action(self) -> str:
        return self.decision.action


@dataclass
class Outcome:
    """A body after compression. ``text is raw_text`` when nothing changed."""

    text: str
    outputs: list[OutputReport] = field(default_factory=list)
    originals: dict[str, str] = field(default_factory=dict)
    """sha256 hex -> content set aside by lossy compression (and each lossy output's original)."""
    tokens_before: int = 0
    tokens_after: int = 0
    """Tokens of the tool outputs only; the rest of the body is unchanged."""
    lossy: bool = False
    """Whether lossy steps could run (the request declared the retrieve tool, or the caller said so)."""
    memo_hits: int = 0
    memo_misses: int = 0
    trail: list["_Step"] = field(default_factory=list, repr=False)
    """Per output, what ``compress_body`` needs to pick up after it in a later request."""

    @property
    def changed(self) -> bool:
        return any(report.changed for report in self.outputs)


@dataclass(frozen=True)
class _Result:
    text: str
    tokens_after: int
    originals: tuple[str, ...]
    lossy: bool
    note: str
    sha: str | None = None
    """sha256 of ``text`` when it differs from the original (what the model is sent)."""


def compress_body(raw_text: str, doc: Any, wire: WireFormat, rules: RuleSet, mode: Mode = "cache",
                  lossy: bool | None = None, known: "KnownPrefix | None" = None,
                  deadline: Deadline | None = None) -> Outcome:
    """Compress the tool outputs of one parsed request body under ``rules``. Never raises for a
    compressor's failure and never makes an output longer: at worst the body comes back as is.

    ``lossy``: whether compressors may drop text the model would have to retrieve. None decides
    by the body: only when its own tool list holds ``headroom_retrieve`` (``addon/retrieval.py``);
    otherwise only lossless steps and references within the request run, and token mode retires
    nothing.

    ``known`` (cache and off modes only): what an earlier request of the conversation already
    found for this body's first outputs, which it repeats (``addon/prefix_reuse.py``); their
    reports are taken as they are and only the outputs after them are worked on.

    ``deadline``: checked before each output's work; raises ``OverBudget`` once it has passed."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r} (known: {', '.join(MODES)})")
    if known is not None and mode == "token":
        raise ValueError("token mode looks at later turns: an earlier request's reports do not hold")
    if known is not None and known.lossy_from is not _UNKNOWN:
        lossy_from = known.lossy_from
    else:
        lossy_from = lossy_start(wire, doc, lossy)
    outcome = Outcome(text=raw_text, lossy=lossy_from is not None)
    outputs = known.outputs if known is not None else wire.extract(doc, rules.framings)
    model = wire.model(doc) or ""
    skip = len(known.reports) if known is not None else 0
    facts = [_facts_within(output, rules, deadline) for output in outputs[skip:]]
    rules_facts = _RulesFacts.cache_for(rules)
    window = token_mode.window(outputs, rules.token_mode.step_turns) if mode == "token" else None
    ages = window.ages if window else None
    retiring = (token_mode.retirements(outputs, facts, window, rules.token_mode) if window and lossy_from is not None
                else token_mode.Retirements({}, {}))
    if lossy_from:  # retire only what the model could get back: outputs after it learnt of the tool
        retiring = token_mode.Retirements({i: why for i, why in retiring.stale.items() if outputs[i].turn > lossy_from},
                                          retiring.superseding)
    stale, superseding = retiring.stale, retiring.superseding
    earlier_outputs: dict[str, str] = {}
    earlier_reads: dict[str, tuple[str, str]] = {}
    earlier_read_shas: dict[str, tuple[str, str]] = {}
    seen = _SentSoFar()
    replacements = _Replacements()

    if known is not None:
        for report, step in zip(known.reports, known.trail):
            _replay(report, step, outcome, earlier_outputs, earlier_reads, earlier_read_shas, seen)
            outcome.trail.append(step)
    for index, (output, fact) in enumerate(zip(outputs[skip:], facts), start=skip):
        if deadline is not None:
            deadline.check()
        kind, tokens = fact.kind, fact.tokens
        originals_before = len(outcome.originals)
        age = ages[index] if ages is not None else 0
        decision = rules_facts.decide(output, kind, tokens, model, mode, age)
        new_text, tokens_after, note = output.text, tokens, ""
        new_sha: str | None = None
        retired = False
        if mode == "off" or decision.action != "compress":
            pass  # protect, verbatim and keep hold in token mode too
        elif index in stale:
            new_text, tokens_after, note = _stale_marker(output, stale[index], tokens, outcome.originals)
            retired = new_text != output.text
        else:
            output_lossy = lossy_from is not None and output.turn >= lossy_from
            result, hit = _compress_one(output, fact, decision, rules, rules_facts, earlier_outputs,
                                        earlier_reads, earlier_read_shas, seen, output_lossy)
            outcome.memo_hits += hit
            outcome.memo_misses += not hit
            note = result.note
            if result.text != output.text:
                new_text, tokens_after, new_sha = result.text, result.tokens_after, result.sha
                _keep_originals(outcome.originals, output.text, result)
        if index in superseding:
            note = "; ".join(filter(None, (note, superseding[index])))
        if new_text != output.text:
            replacements.add(output, new_text)
        outcome.outputs.append(OutputReport(output, kind, decision, tokens, tokens_after, new_text,
                                            new_text != output.text, note))
        outcome.tokens_before += tokens
        outcome.tokens_after += tokens_after
        if decision.action != "protect" and not retired:
            # what later outputs may refer to: only what the model still sees
            earlier_outputs.setdefault(fact.sha, output.call_id)
            if fact.access and fact.access[0] == "read":
                earlier_reads[fact.access[1]] = (output.call_id, output.text)
                earlier_read_shas[fact.access[1]] = (output.call_id, fact.sha)
            seen.add(output.call_id, new_text, fact.sha if new_text is output.text else new_sha)
        outcome.trail.append(_Step(fact, new_sha, retired, _newest(outcome.originals, originals_before), seen.digest))

    if known is not None:
        outcome.text = _rewrite(wire, raw_text, replacements.strings(), outcome, known.rewrite)
    elif replacements:
        outcome.text = _rewrite(wire, raw_text, replacements.strings(), outcome)
    return outcome


@dataclass(frozen=True)
class _Step:
    """What one output's work left for the outputs after it: enough to replay it without
    redoing it (``_replay``)."""

    fact: "_Facts"
    new_sha: str | None
    retired: bool
    originals: tuple[tuple[str, str], ...]
    """The originals it set aside."""
    digest: str
    """``_SentSoFar.digest`` after it."""


def _facts_within(output: ToolOutput, rules: RuleSet, deadline: Deadline | None) -> "_Facts":
    if deadline is not None:
        deadline.check()
    return _Facts.of(output, rules)


def _newest(store: dict[str, str], size_before: int) -> tuple[tuple[str, str], ...]:
    """The items added to ``store`` since it had ``size_before`` of them, oldest first."""
    added = len(store) - size_before
    return tuple(itertools.islice(reversed(store.items()), added))[::-1] if added else ()


_UNKNOWN: Any = object()


@dataclass(frozen=True)
class KnownPrefix:
    """An earlier request's work on the outputs a body repeats, for ``compress_body``."""

    outputs: list[ToolOutput]
    """All of this body's outputs: the repeated ones first, the same objects as before."""
    reports: Sequence[OutputReport]
    """The earlier request's reports of the repeated outputs."""
    trail: Sequence[_Step]
    """Their ``Outcome.trail``."""
    rewrite: Callable[[str, Mapping[JsonPath, str]], str]
    """Writes the new outputs' texts back (the repeated ones are already in place)."""
    lossy_from: Any = _UNKNOWN
    """This body's first turn where lossy steps may run, when the caller knows it."""


def _replay(report: OutputReport, step: _Step, outcome: Outcome, earlier_outputs: dict[str, str],
            earlier_reads: dict[str, tuple[str, str]], earlier_read_shas: dict[str, tuple[str, str]],
            seen: "_SentSoFar") -> None:
    """The state the loop of ``compress_body`` keeps, as it was after this output."""
    output, fact = report.output, step.fact
    outcome.outputs.append(report)
    outcome.tokens_before += report.tokens_before
    outcome.tokens_after += report.tokens_after
    outcome.originals.update(step.originals)
    if report.action != "protect" and not step.retired:
        earlier_outputs.setdefault(fact.sha, output.call_id)
        if fact.access and fact.access[0] == "read":
            earlier_reads[fact.access[1]] = (output.call_id, output.text)
            earlier_read_shas[fact.access[1]] = (output.call_id, fact.sha)
        if output.call_id and output.call_id not in seen.texts:
            seen.texts[output.call_id] = report.text
            seen.digest = step.digest


def lossy_start(wire: WireFormat, doc: Any, lossy: bool | None) -> int | None:
    """The first turn whose outputs lossy steps may touch (None: none); see ``compress_body``."""
    if lossy is not None:
        return 0 if lossy else None
    if retrieval_declared(wire, doc):
        return 0
    return retrieval_announced_after(wire, doc)


class _Replacements:
    """New texts by path. An output framed by its agent is a piece of the string at its path:
    the pieces of one frame are written back together, and the frame's other bytes stay."""

    def __init__(self) -> None:
        self._plain: dict[JsonPath, str] = {}
        self._framed: dict[JsonPath, tuple[Any, dict[str, str]]] = {}

    def __bool__(self) -> bool:
        return bool(self._plain or self._framed)

    def add(self, output: ToolOutput, new_text: str) -> None:
        if output.frame is None:
            self._plain[output.path] = new_text
        else:
            frame = output.frame.frame
            self._framed.setdefault(output.path, (frame, {}))[1][output.frame.key] = new_text

    def strings(self) -> dict[JsonPath, str]:
        strings = dict(self._plain)
        for path, (frame, new_texts) in self._framed.items():
            strings[path] = frame.rebuild(new_texts)
        return strings


class _SentSoFar:
    """The earlier outputs as sent (call id -> text), for compressors that point into them, and
    one running digest of all of them for the memo key: their result depends on every one."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}
        self.digest = ""

    def add(self, call_id: str, sent: str, sha: str | None) -> None:
        if not call_id or call_id in self.texts:
            return  # a reference by call id must name one output
        self.texts[call_id] = sent
        self.digest = _sha256(f"{self.digest}\n{call_id}\n{sha or _sha256(sent)}")


@dataclass(frozen=True)
class _Facts:
    """What one output's text, tool and arguments tell, whatever request it comes in."""

    text: str
    arguments: Any
    files: Any
    """The rules' ``FileTools`` that decided ``access``."""
    sha: str
    arguments_key: str
    arguments_sha: str
    access: tuple[str, str] | None
    """("read" | "write" | "edit", path) when the call reads, rewrites or edits one file."""
    mentioned_paths: tuple[str, ...]
    kind: str
    tokens: int

    @classmethod
    def of(cls, output: ToolOutput, rules: RuleSet) -> "_Facts":
        key = (output.call_id or output.path, output.part, output.frame.key if output.frame else "",
               output.tool_name, output.is_error, len(output.text))
        known = _FACTS.get(key)
        if (known is not None and known.files is rules.files and known.text == output.text
                and _same_json(known.arguments, output.arguments)):
            return known
        sha = _sha256(output.text)
        arguments_key = _canonical(output.arguments)
        access = rules.files.access(output.tool_name, output.arguments)
        kind, tokens = _kind_and_tokens(output, sha, arguments_key)
        facts = cls(output.text, output.arguments, rules.files, sha, arguments_key, _sha256(arguments_key),
                    access, _mentioned_paths(output.arguments, access), kind, tokens)
        _FACTS.put(key, facts)
        return facts


def _same_json(a: Any, b: Any) -> bool:
    """True when ``a`` and ``b`` are the same JSON value down to types, key order and float
    spelling (``==`` alone takes ``1`` for ``True`` and ``0.0`` for ``-0.0``). False for
    anything it does not know, which only costs a recomputation."""
    if a is b:
        return True
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is str or kind is int or kind is bool:
        return a == b
    if kind is dict:
        return len(a) == len(b) and all(
            ka == kb and type(ka) is type(kb) and _same_json(va, vb)
            for (ka, va), (kb, vb) in zip(a.items(), b.items()))
    if kind is list:
        return len(a) == len(b) and all(_same_json(va, vb) for va, vb in zip(a, b))
    if kind is float:
        return repr(a) == repr(b)
    return False


def _kind_and_tokens(output: ToolOutput, sha: str, arguments_key: str) -> tuple[str, int]:
    key = (sha, output.tool_name, arguments_key)
    cached = _KINDS.get(key)
    if cached is None:
        cached = (_detect_kind(output), count_tokens(output.text))
        _KINDS.put(key, cached)
    return cached


class _RulesFacts:
    """Per rule set: its decisions, and for each rule's compressor chain, its part of the memo
    key and whether a compressor in it reads earlier outputs' texts. Chains are the rules' own
    tuples, so their identity is a correct key while the rule set lives."""

    _by_rules: LruMemo["_RulesFacts"] = LruMemo(8)

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self._known: dict[int, tuple[tuple[Any, ...], tuple[tuple[str, str], ...], bool]] = {}
        self._lossless: dict[int, tuple[tuple[Any, ...], tuple[Any, ...]]] = {}
        self._decisions: LruMemo[Decision] = LruMemo(16384)

    def decide(self, output: ToolOutput, kind: str, tokens: int, model: str, mode: str, age: int) -> Decision:
        """``rules.decide``, which reads of the output only its tool, provider and error flag."""
        key = (output.tool_name, output.provider, output.is_error, kind, tokens, model, mode, age)
        decision = self._decisions.get(key)
        if decision is None:
            decision = self.rules.decide(output, kind, tokens, model, mode=mode, age=age)
            self._decisions.put(key, decision)
        return decision

    def without_loss(self, steps: tuple[Any, ...]) -> tuple[Any, ...]:
        """A chain as it runs where the model cannot retrieve originals: lossy steps left out, a
        step lossy only through a parameter (``exit_status``'s ``quiet_success``) run without it.
        The same tuple object for the same chain, so memo keys by identity hold."""
        known = self._lossless.get(id(steps))
        if known is not None and known[0] is steps:
            return known[1]
        kept = []
        for step in steps:
            spec = self.rules.registry.get(step.name)
            if spec is None or spec.allowed_without_retrieval(step.params):
                kept.append(step)
            elif spec.lossless and spec.lossy_when:
                kept.append(dataclasses.replace(step, params={**step.params, spec.lossy_when: False}))
        lossless = tuple(kept)
        if len(self._lossless) > 4096:
            self._lossless.clear()
        self._lossless[id(steps)] = (steps, lossless)
        return lossless

    @classmethod
    def cache_for(cls, rules: RuleSet) -> "_RulesFacts":
        known = cls._by_rules.get(id(rules))
        if known is None or known.rules is not rules:
            known = cls(rules)
            cls._by_rules.put(id(rules), known)
        return known

    def of(self, steps: tuple[Any, ...]) -> tuple[tuple[tuple[str, str], ...], bool]:
        known = self._known.get(id(steps))
        if known is None or known[0] is not steps:
            key = tuple((step.name, _canonical(dict(step.params))) for step in steps)
            uses_sent = any(spec is not None and spec.uses_earlier_texts
                            for spec in map(self.rules.registry.get, (step.name for step in steps)))
            known = (steps, key, uses_sent)
            if len(self._known) > 4096:
                self._known.clear()
            self._known[id(steps)] = known
        return known[1], known[2]


def _compress_one(output: ToolOutput, fact: _Facts, decision: Decision, rules: RuleSet,
                  rules_facts: _RulesFacts, earlier_outputs: dict[str, str],
                  earlier_reads: dict[str, tuple[str, str]], earlier_read_shas: dict[str, tuple[str, str]],
                  seen: _SentSoFar, lossy: bool) -> tuple[_Result, bool]:
    steps = decision.steps if lossy else rules_facts.without_loss(decision.steps)
    steps_key, uses_sent = rules_facts.of(steps)
    key = _memo_key(output, fact, steps_key, earlier_outputs, earlier_read_shas,
                    seen.digest if uses_sent else None)
    cached = _RESULTS.get(key)
    if cached is not None:
        return cached, True
    ctx = Context(
        tool_name=output.tool_name,
        arguments=output.arguments,
        call_id=output.call_id,
        is_error=output.is_error,
        earlier_outputs=MappingProxyType(earlier_outputs),
        earlier_reads=MappingProxyType(earlier_reads),
        earlier_texts=MappingProxyType(seen.texts) if uses_sent else MappingProxyType({}),
    )
    result = _run_steps(output.text, steps, rules, ctx)
    _RESULTS.put(key, result)
    return result, False


def _memo_key(output: ToolOutput, fact: _Facts, steps_key: tuple[tuple[str, str], ...],
              earlier_outputs: Mapping[str, str], earlier_read_shas: Mapping[str, tuple[str, str]],
              sent_digest: str | None) -> tuple[Any, ...]:
    """Everything a compressor may depend on, and nothing more. Earlier outputs matter as "this
    same text was already sent" and "this file was already read" (path -> (call id, sha256 of
    that read's text)); only compressors that point into earlier outputs' text
    (``uses_earlier_texts``) add the digest of everything sent before, which is the same in
    every request of one conversation, so their work is still done once. Texts enter as sha256
    digests, so a key holds no large string."""
    read_facts = tuple((path,) + earlier_read_shas[path]
                       for path in fact.mentioned_paths if path in earlier_read_shas)
    return (
        fact.sha,
        steps_key,
        output.tool_name,
        fact.arguments_sha,
        output.is_error,
        earlier_outputs.get(fact.sha),
        read_facts,
        sent_digest,
    )


def _mentioned_paths(arguments: Any, access: tuple[str, str] | None) -> tuple[str, ...]:
    paths = {access[1]} if access else set()
    if isinstance(arguments, Mapping):
        paths.update(v for v in arguments.values() if isinstance(v, str) and len(v) < 4096)
    return tuple(sorted(paths))


def _runnable(rules: RuleSet, name: str) -> CompressorSpec | None:
    """The compressor that runs for ``name``: the rule set's own when it was validated against
    runnable ones (a stand-in registry), else the installed compressor it declares."""
    declared = rules.registry.get(name)
    if declared is None or isinstance(declared, CompressorSpec):
        return declared
    return REGISTRY.get(name)


def _run_steps(text: str, steps: tuple[Any, ...], rules: RuleSet, ctx: Context) -> _Result:
    """Apply the rule's compressors in order; any failure leaves the output as it was."""
    current = text
    originals: list[str] = []
    lossy = False
    for step in steps:
        spec = _runnable(rules, step.name)
        if spec is None:
            return _Result(text, 0, (), False, f"compressor {step.name!r} is not installed")
        try:
            answer = spec.fn(current, step.params, ctx)
            if not isinstance(answer, Compressed) or not isinstance(answer.text, str):
                raise TypeError(f"returned {type(answer).__name__}, not Compressed")
        except Exception as exc:  # never worse than passthrough
            _report_failure(f"compressor {step.name}", exc)
            return _Result(text, 0, (), False, f"{step.name} failed: {type(exc).__name__}")
        if answer.text != current and not_longer(answer.text, current):
            current = answer.text
            originals.extend(o for o in answer.originals if isinstance(o, str))
            lossy = lossy or not spec.is_lossless(step.params)
    if current == text:
        return _Result(text, 0, (), False, "")
    tokens_before, tokens_after = count_tokens(text), count_tokens(current)
    if tokens_after >= tokens_before:
        return _Result(text, 0, (), False, "not smaller")
    return _Result(current, tokens_after, tuple(originals), lossy, "", _sha256(current))


def _keep_originals(store: dict[str, str], original: str, result: _Result) -> None:
    for content in result.originals:
        store[_sha256(content)] = content
    if result.lossy:
        store[_sha256(original)] = original


def _report_failure(name: str, exc: Exception, consequence: str = "its outputs are sent unchanged") -> None:
    key = (name, type(exc).__name__)
    if key in _reported_failures:
        return
    _reported_failures.add(key)
    logger.warning("%s raised %s: %s; %s", name, type(exc).__name__, exc, consequence, exc_info=True)


# -- token mode --------------------------------------------------------------------------------

def _stale_marker(output: ToolOutput, why: str, tokens: int, originals: dict[str, str]) -> tuple[str, int, str]:
    from headroom_mitm.addon.compress.markers import marker, ref_of

    text = marker("stale", why, ref_of(output.text))
    after = count_tokens(text)
    if after >= tokens or len(text) > len(output.text):
        return output.text, tokens, "stale, but the marker is not smaller"
    originals[_sha256(output.text)] = output.text
    return text, after, "retired (token mode)"


# -- plumbing ----------------------------------------------------------------------------------

def retrieval_declared(wire: WireFormat, doc: Any) -> bool:
    """Whether the request's own tool list holds the retrieve tool (``addon/retrieval.py``)."""
    return any(is_retrieve_tool(name) for name in wire.tool_names(doc))


def retrieval_announced_after(wire: WireFormat, doc: Any) -> int | None:
    """The first turn after the one where the client named the retrieve tool among its
    deferred tools (Claude Code's ToolSearch note), or None. Outputs before it were sent while
    the model did not know of the tool, and keep the form they had then: the cache holds."""
    turn = announced_at(wire.messages(doc))
    return None if turn is None else turn + 1


def _rewrite(wire: WireFormat, raw_text: str, replacements: dict[JsonPath, str], outcome: Outcome,
             rewrite: Callable[[str, Mapping[JsonPath, str]], str] | None = None) -> str:
    try:
        return (rewrite or wire.rewrite)(raw_text, replacements)
    except Exception as exc:  # a body we cannot write back goes upstream as it came
        logger.warning("could not write compressed outputs back, body sent unchanged: %s", exc)
        outcome.outputs = [OutputReport(r.output, r.kind, r.decision, r.tokens_before, r.tokens_before,
                                        r.output.text, False, "write-back failed")
                           for r in outcome.outputs]
        outcome.tokens_after = outcome.tokens_before
        outcome.originals.clear()
        return raw_text


def _detect_kind(output: ToolOutput) -> str:
    try:
        return detect_kind(output.text, output.tool_name, output.arguments)
    except Exception as exc:
        # the output is still compressed, as text: never say it was sent unchanged
        _report_failure("content kind detection", exc, "those outputs are compressed as plain text")
        return "text"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _canonical(value: Any) -> str:
    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    except (TypeError, ValueError):
        return repr(value)


def clear_memo() -> None:
    """Forget all memoised work (tests; a rules reload does not need it: rules are in the key)."""
    _RESULTS.clear()
    _KINDS.clear()
    _FACTS.clear()
    _RulesFacts._by_rules.clear()
    token_mode.clear_memo()
    framing_outputs.clear_memo()
