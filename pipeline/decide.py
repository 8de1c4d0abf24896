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

>>> from pipeline.config import default_config
>>> decide("C-1", [Check("retailer", None, "pass", 97)], default_config()).decision
'approve'
"""
from __future__ import annotations

from . import __version__
from .config import Config
from .decision import Check, Decision, Reason

__all__ = ["decide", "score_checks", "reason_for"]


_MAX_VALUE_CHARS = 80


def _value(text: str | None) -> str | None:
    """A found or expected value fit to quote to a claimant: one line, at most 80 characters."""
    if text is None:
        return None
    one = " ".join(str(text).split())
    if len(one) > _MAX_VALUE_CHARS:
        one = one[:_MAX_VALUE_CHARS - 1].rstrip() + "…"
    return one or None


def reason_for(code: str, config: Config, check: Check | None = None) -> Reason:
    """The reason for ``code``: its severity and message; the message from the code's ``template``
    with the values of ``check`` (the check that raised it: what it found, what the claim says)
    when it has every value the template names."""
    spec = config.reasons.get(code)
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


def score_checks(checks: list[Check], config: Config) -> float:
    counted = [c for c in checks if c.status != "skipped"]
    if not counted:
        return 0.0
    cap = config.decision.uncertain_score_cap
    parts = []
    for c in counted:
        if c.status == "pass":
            parts.append(c.score / 100)
        elif c.status == "uncertain":
            parts.append(min(c.score / 100, cap))
        else:
            parts.append(0.0)
    return max(0.0, min(1.0, min(parts)))


def decide(claim_id: str, checks: list[Check], config: Config, *, reward: dict | None = None,
           extra_reasons: list[str] = (), extra: dict | None = None) -> Decision:
    codes = list(extra_reasons)
    raised_by: dict[str, Check] = {}
    for c in checks:
        if c.status in ("fail", "uncertain") and c.reason and c.reason not in codes:
            codes.append(c.reason)
            raised_by[c.reason] = c
    reasons = [reason_for(code, config, raised_by.get(code)) for code in codes]
    score = score_checks(checks, config) if not extra_reasons else 0.0
    if any(r.severity == "reject" for r in reasons):
        verdict = "reject"
    elif reasons or score < config.decision.approve_min_score:
        verdict = "review"
    else:
        verdict = "approve"
    # reasons: reject-severity first, so the message a reviewer sends leads with the blocker
    reasons.sort(key=lambda r: r.severity != "reject")
    return Decision(claim_id, verdict, score, tuple(reasons), tuple(checks),
                    reward if verdict != "reject" else None, __version__, config.hash, extra or {})
