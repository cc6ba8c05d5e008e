"""A ledger played over months by debtors of known, hidden behaviours, for the risk backtest.

Each debtor has a behaviour (reliable, slow, distressed, defaulting) and, drawn
around it, its own chances of paying each invoice at each step of the default
ladder: before the due date, after the first reminder (sent on the due date),
after the second (15 days later), after the formal notice (8 days after that;
those who pay it late have promised or agreed a plan, the others are queued for
litigation 8 days after the notice). Invoices come each month; what the daily
runs would have recorded (payments seen, reminders sent, dossiers queued,
promises and plans, disputes) is built in bulk.

Because every debtor's chances are known, so is the best possible answer:
`true_probabilities` gives, for the invoices open on a day, the exact chance
of each outcome the backtest scores, given what had happened by that day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from recouvrement.domain.risk_features import RiskLedger

# Steps of the ladder an invoice ends at, and the days (from the due date) it is paid in:
# uniformly between the bounds. The last step is litigation, queued on LITIGATION_DAY.
STEPS = ("before_due", "after_l1", "after_l2", "after_l3", "litigation")
STEP_DAYS = ((-10, 0), (1, 14), (16, 22), (24, 60))
LEVEL_DAYS = {1: 0, 2: 15, 3: 23}  # the default ladder: due date, +15, +8
LITIGATION_DAY = 31  # the formal notice's 8 days passed
OFFSETS = np.arange(-10, 61)  # every day a payment can fall on, relative to the due date

BEHAVIOURS = {
    # mean chances per step (before due, after L1, after L2, after notice, litigation)
    "reliable": (0.88, 0.09, 0.02, 0.01, 0.00),
    "slow": (0.15, 0.45, 0.30, 0.09, 0.01),
    "distressed": (0.05, 0.15, 0.25, 0.45, 0.10),
    "defaulting": (0.02, 0.05, 0.10, 0.28, 0.55),
}
BEHAVIOUR_WEIGHTS = (0.55, 0.25, 0.12, 0.08)
CONCENTRATION = 12.0  # how closely a debtor follows its behaviour (Dirichlet)
DISPUTE_RATE = {"reliable": 0.01, "slow": 0.03, "distressed": 0.08, "defaulting": 0.15}


@dataclass(frozen=True)
class RiskScenario:
    ledger: RiskLedger
    behaviour: pd.Series      # account -> behaviour
    chances: pd.DataFrame     # account -> chance of each step (columns STEPS)
    start: date
    end: date                 # the last day played: nothing after it is known

    def payment_pmf(self) -> np.ndarray:
        """Per debtor (rows as `chances`), the chance of paying on each day of OFFSETS,
        then of litigation (last column)."""
        p = self.chances.to_numpy()
        pmf = np.zeros((len(p), len(OFFSETS) + 1))
        for step, (low, high) in enumerate(STEP_DAYS):
            cols = (OFFSETS >= low) & (OFFSETS <= high)
            pmf[:, :-1][:, cols] += p[:, [step]] / cols.sum()
        pmf[:, -1] = p[:, 4]
        return pmf


def generate(n_debtors: int, *, months: int = 15, seed: int = 11,
             end: date = date(2026, 11, 30)) -> RiskScenario:
    rng = np.random.default_rng(seed)
    start = end - timedelta(days=30 * months)
    accounts = np.array([f"411R{i:06d}" for i in range(n_debtors)])
    names = list(BEHAVIOURS)
    behaviour = rng.choice(len(names), size=n_debtors, p=BEHAVIOUR_WEIGHTS)
    means = np.array([BEHAVIOURS[n] for n in names])[behaviour] + 1e-3
    chances = np.vstack([rng.dirichlet(CONCENTRATION * m) for m in means])
    kind = rng.choice(["B2B", "B2C", "PUBLIC"], size=n_debtors, p=(0.8, 0.15, 0.05))
    debtors = pd.DataFrame({"account": accounts, "kind": kind,
                            "collective_proceedings_since": pd.NaT})

    # Invoices: about one a month each, from the first day played to the last.
    per = rng.poisson(months * rng.uniform(0.6, 1.6, n_debtors))
    owner = np.repeat(np.arange(n_debtors), per)
    issue = pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, 30 * months, owner.size), "D")
    terms = rng.choice([30, 45, 60], size=n_debtors, p=(0.6, 0.25, 0.15))[owner]
    due = issue + pd.to_timedelta(terms, "D")
    amount = np.round(rng.lognormal(7.0, 1.0, owner.size), 2)
    step = _draw(rng, chances[owner])
    low = np.array([s[0] for s in STEP_DAYS] + [LITIGATION_DAY])[step]
    high = np.array([s[1] for s in STEP_DAYS] + [LITIGATION_DAY])[step]
    pay_day = rng.integers(low, high + 1)
    # nobody pays before the invoice is issued
    pay_day = np.maximum(pay_day, -terms + 1)
    paid_on = due + pd.to_timedelta(pay_day, "D")
    in_litigation = step == 4
    last = pd.Timestamp(end)
    settled = pd.Series(paid_on).where(~in_litigation & (paid_on <= last))
    numbers = np.array([f"R{i:08d}" for i in range(owner.size)])
    invoices = pd.DataFrame({
        "account": accounts[owner], "number": numbers, "issue_date": issue, "due_date": due,
        "amount": amount, "open_amount": np.where(settled.isna(), amount, 0.0),
        "settled_on": settled, "last_payment_on": pd.NaT})
    invoices = invoices[invoices["issue_date"] <= last].reset_index(drop=True)
    keep = invoices.index.to_numpy()
    step, pay_day = step[keep], pay_day[keep]
    due = invoices["due_date"]

    # Reminders: each level sent on its day if the invoice was not paid before it.
    rows = []
    for level, offset in LEVEL_DAYS.items():
        sent_on = due + pd.Timedelta(days=offset)
        chased = (pay_day > offset) & (sent_on <= last)
        rows.append(pd.DataFrame({"account": invoices["account"][chased],
                                  "number": invoices["number"][chased], "level": level,
                                  "sent_on": sent_on[chased]}))
    reminders = pd.concat(rows, ignore_index=True)

    queued_on = due + pd.Timedelta(days=LITIGATION_DAY)
    lit = (step == 4) & (queued_on <= last)
    dossiers = pd.DataFrame({"account": invoices["account"][lit], "number": invoices["number"][lit],
                             "queued_on": queued_on[lit]})

    # Who pays after the notice's deadline promised to (or agreed a plan) at the notice;
    # a defaulter promises too, half the time, and breaks it.
    notice = due + pd.Timedelta(days=LEVEL_DAYS[3] + 2)
    late_payer = (step == 3) & (pay_day > LITIGATION_DAY - 1)
    liar = (step == 4) & (rng.random(len(step)) < 0.5)
    promised = (late_payer | liar) & (notice <= last)
    until = np.where(late_payer, due + pd.to_timedelta(pay_day, "D"),
                     due + pd.Timedelta(days=LITIGATION_DAY - 1))
    as_plan = rng.random(len(step)) < 0.3
    promises = pd.DataFrame({"account": invoices["account"], "created_on": notice,
                             "until": until})[promised & ~as_plan]
    plan_rows = pd.DataFrame({"account": invoices["account"], "created_on": notice,
                              "status": np.where(liar, "broken", "completed"),
                              "status_on": pd.Series(until)})[promised & as_plan]
    plan_rows = plan_rows[plan_rows["status_on"] <= last]
    rate = pd.Series(names)[behaviour].map(DISPUTE_RATE).to_numpy()[
        pd.Series(invoices["account"]).map({a: i for i, a in enumerate(accounts)}).to_numpy()]
    disputed = (rng.random(len(step)) < rate) & (due + pd.Timedelta(days=5) <= last)
    disputes = pd.DataFrame({"account": invoices["account"][disputed],
                             "opened_on": (due + pd.Timedelta(days=5))[disputed]})

    ledger = RiskLedger.of(debtors=debtors, invoices=invoices, reminders=reminders,
                           dossiers=dossiers, promises=promises, plans=plan_rows,
                           disputes=disputes)
    return RiskScenario(
        ledger=ledger, behaviour=pd.Series(np.array(names)[behaviour], index=accounts),
        chances=pd.DataFrame(chances, index=accounts, columns=STEPS), start=start, end=end)


def _draw(rng: np.random.Generator, p: np.ndarray) -> np.ndarray:
    """One step per row of chances, in bulk."""
    cumulative = p.cumsum(axis=1)
    u = rng.random((len(p), 1)) * cumulative[:, -1:]
    return (u > cumulative).sum(axis=1).clip(max=p.shape[1] - 1)


def true_probabilities(scenario: RiskScenario, open_invoices: pd.DataFrame,
                       cut: date, window_days: int) -> pd.DataFrame:
    """The exact chances, per debtor, of the backtest's two outcomes for the invoices open
    on `cut` (columns account, due_date), knowing they had not been paid nor queued by then.

    litigation: one of them is queued; pays_30: every one is paid within `window_days`
    of the later of its due date and the cut. Invoices are independent given the debtor.
    """
    pmf = scenario.payment_pmf()
    row = pd.Series(np.arange(len(pmf)), index=scenario.chances.index)
    idx = row.reindex(open_invoices["account"]).to_numpy()
    p = pmf[idx]
    elapsed = (pd.Timestamp(cut) - open_invoices["due_date"]).dt.days.to_numpy()
    # Not paid by the cut: only the days after it (and litigation, if not queued yet) remain.
    alive = OFFSETS[None, :] > elapsed[:, None]
    pay = np.where(alive, p[:, :-1], 0.0)
    lit = np.where(elapsed < LITIGATION_DAY, p[:, -1], 0.0)
    total = pay.sum(axis=1) + lit
    limit = np.maximum(elapsed, 0) + window_days
    soon = np.where(OFFSETS[None, :] <= limit[:, None], pay, 0.0).sum(axis=1)
    frame = pd.DataFrame({"account": open_invoices["account"].to_numpy(),
                          "no_lit": 1 - lit / total, "soon": soon / total})
    g = frame.groupby("account")
    return pd.DataFrame({"litigation": 1 - g["no_lit"].prod(), "pays_30": g["soon"].prod()})


def write_to_ledger(session, scenario: RiskScenario) -> None:
    """Put the scenario into a ledger database, as the daily runs would have left it:
    debtors, invoices (paid ones settled on their day), sent reminders with their items,
    litigation dossiers, promises and plans, in bulk. Disputes are left out: the audit log
    dates its entries on the day they are written, and cannot be given a past day."""
    from datetime import datetime, timezone

    from sqlalchemy import insert, select

    from recouvrement.adapters.db.models import (Debtor, Invoice, LitigationDossier, PaymentPlan, Promise,
                                        Reminder, ReminderItem)

    led = scenario.ledger
    now = datetime.now(timezone.utc)
    session.execute(insert(Debtor), [
        {"account": a, "name": f"Client {a}", "kind": k, "email": f"{a.lower()}@client.example.com"}
        for a, k in zip(led.debtors["account"], led.debtors["kind"])])
    debtor_id = dict(session.execute(select(Debtor.account, Debtor.id)).all())
    inv = led.invoices
    settled = inv["settled_on"].notna()
    session.execute(insert(Invoice), [
        {"number": n, "debtor_id": debtor_id[a], "issue_date": i.date(), "due_date": d.date(),
         "amount": f"{amt:.2f}", "open_amount": "0.00" if s else f"{amt:.2f}",
         "status": "settled" if s else "open", "settled_on": p.date() if s else None,
         "settled_how": "export" if s else None}
        for n, a, i, d, amt, s, p in zip(inv["number"], inv["account"], inv["issue_date"],
                                         inv["due_date"], inv["amount"], settled,
                                         inv["settled_on"])])
    invoice_id = dict(session.execute(select(Invoice.number, Invoice.id)).all())
    rem = led.reminders.reset_index(drop=True)
    session.execute(insert(Reminder), [
        {"key": f"scenario-{k}", "debtor_id": debtor_id[a], "level": int(lv),
         "invoice_numbers": [n], "planned_on": s.date(), "message_id": f"<scenario-{k}@example>",
         "subject": f"Relance {n}", "body_text": "", "body_html": "", "status": "sent",
         "sent_on": s.date(), "created_at": now, "channel": "email"}
        for k, a, n, lv, s in zip(rem.index, rem["account"], rem["number"], rem["level"],
                                  rem["sent_on"])])
    reminder_id = dict(session.execute(select(Reminder.key, Reminder.id)).all())
    session.execute(insert(ReminderItem), [
        {"reminder_id": reminder_id[f"scenario-{k}"], "invoice_id": invoice_id[n], "level": int(lv)}
        for k, n, lv in zip(rem.index, rem["number"], rem["level"])])
    dos = led.dossiers.reset_index(drop=True)
    if len(dos):
        session.execute(insert(LitigationDossier), [
            {"id": f"scenario-{k}", "debtor_id": debtor_id[a], "status": "queued",
             "queued_on": q.date(), "invoice_numbers": [n], "principal": "0.00",
             "interest": "0.00", "fixed_fees": "0.00", "total": "0.00",
             "procedure": "injonction_de_payer", "reasons": [], "statement": [], "created_at": now}
            for k, a, n, q in zip(dos.index, dos["account"], dos["number"], dos["queued_on"])])
    noon = lambda day: datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)  # noqa: E731
    if len(led.promises):
        session.execute(insert(Promise), [
            {"debtor_id": debtor_id[a], "until": u.date(), "created_at": noon(c),
             "created_by": "scenario"}
            for a, c, u in zip(led.promises["account"], led.promises["created_on"],
                               led.promises["until"])])
    if len(led.plans):
        session.execute(insert(PaymentPlan), [
            {"debtor_id": debtor_id[a], "invoice_numbers": [], "total": "0.00", "instalments": [],
             "status": st, "status_on": o.date(), "created_at": noon(c), "created_by": "scenario"}
            for a, c, st, o in zip(led.plans["account"], led.plans["created_on"],
                                   led.plans["status"], led.plans["status_on"])])
