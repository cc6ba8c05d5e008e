"""Score every debtor from what the ledger knows, in bulk: the learned model when the daily
run has trained one, else the hand-set score; each score with its reasons in words."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from recouvrement.adapters.audit import Event, record
from recouvrement.domain.events import EventKind
from recouvrement.adapters.db.models import Debtor, Invoice, Reminder
from recouvrement.domain.risk import explain_rules, risk_class, score_debtors
from recouvrement.adapters.risk_store import latest_model, load_risk_ledger
from recouvrement.adapters.shards import Shard, narrow

if TYPE_CHECKING:
    import pandas as pd

CHUNK = 10_000


def score_ledger(session: Session, *, today: date, actor: str,
                 account: str | None = None, shard: Shard | None = None,
                 timezone_name: str = "Europe/Paris") -> Counter:
    """Store each debtor's score, class and factors; audit the changes of class.

    Only the debtors whose score, class or factors changed are written: a quiet
    day rewrites no debtor row (and, on PostgreSQL, leaves no dead row behind).
    """
    rows = session.execute(narrow(select(Debtor.id, Debtor.account, Debtor.risk_score,
                                         Debtor.risk_class, Debtor.risk_factors),
                                  account, shard)).all()
    if not rows:
        return Counter()
    ids = {r.account: r.id for r in rows}
    before = {r.account: r.risk_class for r in rows}
    stored = {r.account: (r.risk_score, r.risk_class, r.risk_factors) for r in rows}
    model = latest_model(session, today)
    if model is None:
        scores = _rule_scores(session, today, list(ids), account, shard)
    else:
        from recouvrement.domain.risk_features import history_features  # pandas: only here

        ledger = load_risk_ledger(session, account=account, shard=shard,
                                  timezone_name=timezone_name)
        scores = learned_scores(model[0], model[1], history_features(ledger, today, list(ids)))

    updates, events, classes = [], [], Counter()
    for name, (score, klass, factors) in scores.items():
        classes[klass] += 1
        if stored[name] == (score, klass, factors):
            continue
        updates.append({"id": ids[name], "risk_score": score, "risk_class": klass,
                        "risk_factors": factors})
        if before.get(name) != klass:
            events.append(Event(EventKind.RISK_CLASS_CHANGED, name,
                                details={"from": before.get(name), "to": klass, "score": score,
                                         "model": factors["model"],
                                         "because": factors["explanation"]}))
    updates.sort(key=lambda u: u["id"])  # row locks in id order, as planning takes them
    for start in range(0, len(updates), CHUNK):
        session.execute(update(Debtor), updates[start:start + CHUNK])
    record(session, events, actor)
    return classes


def learned_scores(model_id: int, model, features: "pd.DataFrame") -> dict[str, tuple]:
    """account -> (score, class, factors) from a learned model."""
    from recouvrement.domain.risk_model import explain, score_from

    chances = model.predict(features)
    scores = score_from(chances["pays_30"])
    words = explain(model, features)
    out = {}
    for name, score, pays, lit in zip(features.index, scores, chances["pays_30"],
                                      chances["litigation"]):
        score = int(score)
        out[name] = (score, risk_class(score), {
            "model": "learned", "model_id": model_id, "trained_on": model.trained_on.isoformat(),
            "pays_30": round(float(pays), 3), "litigation": round(float(lit), 3),
            "explanation": words[name]})
    return out


def _rule_scores(session: Session, today: date, accounts: list[str], account: str | None,
                 shard: Shard | None) -> dict[str, tuple]:
    """account -> (score, class, factors) from the hand-set score."""
    invoices = session.execute(narrow(
        select(Debtor.account, Invoice.due_date, Invoice.open_amount)
        .join(Debtor, Debtor.id == Invoice.debtor_id).where(Invoice.status == "open"),
        account, shard))
    reminders = session.execute(narrow(
        select(Debtor.account, Reminder.level, Reminder.sent_on)
        .join(Debtor, Debtor.id == Reminder.debtor_id).where(Reminder.status == "sent"),
        account, shard))
    out: dict[str, tuple[int, str, dict[str, Any]]] = {}
    for s in score_debtors(invoices, reminders, accounts, today):
        out[s.account] = (s.score, s.risk_class, {"model": "rules", "points": s.factors,
                                                  "explanation": explain_rules(s)})
    return out
