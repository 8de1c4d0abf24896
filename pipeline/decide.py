"""Combine check results into approve / review / reject, a score and reasons.

The policy is data: each reason code's severity and message come from
``pipeline/data/reasons.toml`` (or ``[reasons]`` in a user config), the score
cut-off from ``[decision]``. A code's ``template`` is its message with the
values of the check that raised it filled in ("the invoice is from {found}").

Rules, in order: any reason of severity ``reject`` rejects; else any reason of
severity ``review`` sends to review; else the claim is approved when its score
reaches ``approve_min_score`` (else review). The score is the weakest check's:
a pass counts its own score, an uncertain at most ``uncertain_score_cap``, a
fail 0; skipped checks do not count.

What ``decide`` reads of a config is a ``DecisionPolicy`` (``DecisionPolicy.of(config)``; a Config
is taken too). The lab's sweeps pass policies with other cut-offs to this same ``decide``, among
them ``reject_max_score``: below 1, a reject-severity reason rejects only when a check raising it
scored at most that (else the claim goes to review).

>>> from pipeline.config import default_config
>>> decide("C-1", [Check(name="retailer", product=None, status="pass", score=97)], default_config()).decision
'approve'
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from . import __version__
from .config import Config, ReasonSpec
from .decision import Check, Decision, Reason

__all__ = ["decide", "score_checks", "reason_for", "DecisionPolicy", "verdict_of"]


@dataclass(frozen=True)
class DecisionPolicy:
    """The rules that turn checks into a decision: reason severities and messages, and cut-offs."""
    reasons: Mapping[str, ReasonSpec]
    """Each reason code's severity, message and template (``reasons.toml``)."""
    approve_min_score: float
    """A claim with no reason is approved from this score (the weakest check's) on."""
    uncertain_score_cap: float
    """An uncertain check counts at most this much in the score."""
    config_hash: str
    """The identity of the config the policy came from (written into each decision)."""
    reject_max_score: float = 1.0
    """A reject-severity reason rejects only when a check raising it scored at most this (x100);
    1.0: always. Below it the claim goes to review (the lab's reject sweep)."""

    @classmethod
    def of(cls, config: Config | DecisionPolicy, **changes) -> DecisionPolicy:
        """The policy of a config (or a policy), with ``changes`` (e.g. ``approve_min_score=0.9``)."""
        if isinstance(config, DecisionPolicy):
            return replace(config, **changes) if changes else config
        policy = cls(config.reasons, config.decision.approve_min_score, config.decision.uncertain_score_cap,
                     config.hash)
        return replace(policy, **changes) if changes else policy


_MAX_VALUE_CHARS = 80


def _value(text: str | None) -> str | None:
    """A found or expected value fit to quote to a claimant: one line, at most 80 characters."""
    if text is None:
        return None
    one = " ".join(str(text).split())
    if len(one) > _MAX_VALUE_CHARS:
        one = one[:_MAX_VALUE_CHARS - 1].rstrip() + "…"
    return one or None


def reason_for(code: str, config: Config | DecisionPolicy, check: Check | None = None) -> Reason:
    """The reason for ``code``: its severity and message; the message from the code's ``template``
    with the values of ``check`` (the check that raised it: what it found, what the claim says)
    when it has every value the template names."""
    spec = config.reasons.get(code)  # a Config's and a DecisionPolicy's alike
    if spec is None:
        # An unknown code must still reach a person, and never approve.
        return Reason(code, "review", "Our team is reviewing your claim.")
    message = spec.message
    template = getattr(spec, "template", None)
    if template and check is not None:
        values = {"found": _value(check.found), "expected": _value(check.expected),
                  "detail": _value(check.detail)}
        if all(values.get(name) for name in spec.placeholders()):
            message = template.format(**values)
    return Reason(code, spec.severity, message)


def score_checks(checks: list[Check], config: Config | DecisionPolicy) -> float:
    counted = [c for c in checks if c.status != "skipped"]
    if not counted:
        return 0.0
    cap = config.uncertain_score_cap if isinstance(config, DecisionPolicy) else config.decision.uncertain_score_cap
    parts = []
    for c in counted:
        if c.status == "pass":
            parts.append(c.score / 100)
        elif c.status == "uncertain":
            parts.append(min(c.score / 100, cap))
        else:
            parts.append(0.0)
    return max(0.0, min(1.0, min(parts)))


def decide(claim_id: str, checks: list[Check], config: Config | DecisionPolicy, *, reward: dict | None = None,
           extra_reasons: list[str] = (), extra: dict | None = None) -> Decision:
    policy = DecisionPolicy.of(config)
    codes = list(extra_reasons)
    raised_by: dict[str, Check] = {}
    for c in checks:
        if c.status in ("fail", "uncertain") and c.reason and c.reason not in codes:
            codes.append(c.reason)
            raised_by[c.reason] = c
    reasons = [reason_for(code, policy, raised_by.get(code)) for code in codes]
    score = score_checks(checks, policy) if not extra_reasons else 0.0
    verdict = verdict_of(policy, reasons, score, checks, extra_reasons)
    # reasons: reject-severity first, so the message a reviewer sends leads with the blocker
    reasons.sort(key=lambda r: r.severity != "reject")
    return Decision(claim_id, verdict, score, tuple(reasons), tuple(checks),
                    reward if verdict != "reject" else None, __version__, policy.config_hash, extra or {})


def verdict_of(policy: DecisionPolicy, reasons, score: float, checks, extra_reasons=()) -> str:
    """approve / review / reject from the reasons raised and the score (the rules of the module
    docstring) under ``policy``'s cut-offs. The reasons and the score depend only on the policy's
    ``reasons`` and ``uncertain_score_cap``: the lab's sweeps take them from one ``decide`` and ask
    this for each pair of cut-offs."""
    if any(r.severity == "reject" for r in reasons):
        return "reject" if _rejects(policy, checks, extra_reasons) else "review"
    if reasons or score < policy.approve_min_score:
        return "review"
    return "approve"


def _rejects(policy: DecisionPolicy, checks: list[Check], extra_reasons) -> bool:
    """Whether a reject-severity reason rejects under ``reject_max_score``."""
    if policy.reject_max_score >= 1.0:
        return True

    def rejecting(code: str) -> bool:
        spec = policy.reasons.get(code)
        return spec is not None and spec.severity == "reject"

    return (any(rejecting(code) for code in extra_reasons)
            or any(c.status in ("fail", "uncertain") and c.reason and rejecting(c.reason)
                   and c.score <= 100 * policy.reject_max_score for c in checks))
