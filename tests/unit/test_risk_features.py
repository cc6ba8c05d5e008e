"""History features on small hand-made ledgers: each figure computed by hand in comments."""

from datetime import date

import pandas as pd
import pytest

from recouvrement.domain.risk_features import RiskLedger, history_features, known_on

D = pd.Timestamp
CUT = date(2026, 6, 30)


def ledger(invoices, reminders=(), dossiers=(), promises=(), plans=(), disputes=(),
           debtors=(("A", "B2B", None), ("B", "B2C", None))):
    return RiskLedger.of(
        debtors=pd.DataFrame(list(debtors), columns=["account", "kind",
                                                     "collective_proceedings_since"]),
        invoices=pd.DataFrame(
            [(a, n, D(i), D(d), amt, opn, D(s) if s else pd.NaT, pd.NaT)
             for a, n, i, d, amt, opn, s in invoices],
            columns=["account", "number", "issue_date", "due_date", "amount", "open_amount",
                     "settled_on", "last_payment_on"]),
        reminders=pd.DataFrame([(a, n, lv, D(s)) for a, n, lv, s in reminders],
                               columns=["account", "number", "level", "sent_on"]),
        dossiers=pd.DataFrame([(a, n, D(q)) for a, n, q in dossiers],
                              columns=["account", "number", "queued_on"]),
        promises=pd.DataFrame([(a, D(c), D(u)) for a, c, u in promises],
                              columns=["account", "created_on", "until"]),
        plans=pd.DataFrame([(a, D(c), st, D(o)) for a, c, st, o in plans],
                           columns=["account", "created_on", "status", "status_on"]),
        disputes=pd.DataFrame([(a, D(o)) for a, o in disputes], columns=["account", "opened_on"]))


# A: four invoices due 31 Jan, 28 Feb, 31 Mar, 30 Apr.
#  F1 paid 25 Jan (6 days early, before any reminder)
#  F2 paid 10 Mar (10 days late), after level 1 sent 28 Feb
#  F3 paid 20 Apr (20 days late), after level 1 (31 Mar), 2 (15 Apr)
#  F4 queued for litigation 1 Jun after level 3 (23 May)
#  F5 issued 1 Jun, due 1 Jul, open 1000: not yet due on the cut
A_INVOICES = [
    ("A", "F1", "2026-01-01", "2026-01-31", 100.0, 0.0, "2026-01-25"),
    ("A", "F2", "2026-01-29", "2026-02-28", 200.0, 0.0, "2026-03-10"),
    ("A", "F3", "2026-03-01", "2026-03-31", 300.0, 0.0, "2026-04-20"),
    ("A", "F4", "2026-03-31", "2026-04-30", 400.0, 400.0, None),
    ("A", "F5", "2026-06-01", "2026-07-01", 1000.0, 1000.0, None),
]
A_REMINDERS = [("A", "F2", 1, "2026-02-28"), ("A", "F3", 1, "2026-03-31"),
               ("A", "F3", 2, "2026-04-15"), ("A", "F4", 1, "2026-04-30"),
               ("A", "F4", 2, "2026-05-15"), ("A", "F4", 3, "2026-05-23")]
A_DOSSIERS = [("A", "F4", "2026-06-01")]


def test_how_and_when_past_invoices_were_paid():
    f = history_features(ledger(A_INVOICES, A_REMINDERS, A_DOSSIERS), CUT).loc["A"]
    # closed: F1, F2, F3 paid; F4 in litigation -> 4
    assert f["n_closed"] == 4
    assert (f["n_paid_before_due"], f["n_paid_after_l1"], f["n_paid_after_l2"],
            f["n_paid_after_l3"], f["n_litigation"]) == (1, 1, 1, 0, 1)
    assert f["share_paid_before_due"] == 0.25 and f["share_litigation"] == 0.25
    # days to pay: -6, 10, 20 -> mean 8, median 10, max 20; p90 = 10 + 0.8 * (20 - 10) = 18
    assert (f["dtp_mean"], f["dtp_median"], f["dtp_max"]) == (8, 10, 20)
    assert f["dtp_p90"] == pytest.approx(18)
    # the last 4 closed (F4, F3, F2, F1): one (F4) after the formal notice
    assert (f["last_n"], f["last_n_after_notice"]) == (4, 1)
    assert f["highest_level"] == 3
    # tenure: 1 Jan -> 30 Jun = 180 days
    assert f["tenure_days"] == 180
    # exposure: only F5 open (F4 is with litigation), not yet due
    assert (f["n_open"], f["open_amount"], f["overdue_amount"], f["days_past_due"]) == (1, 1000, 0, 0)
    assert f["no_history"] == 0


def test_a_debtor_without_history_says_so_and_counts_its_overdue_exposure():
    inv = [("B", "G1", "2026-05-01", "2026-05-31", 500.0, 500.0, None)]
    f = history_features(ledger(inv), CUT).loc["B"]
    assert f["no_history"] == 1 and f["n_closed"] == 0 and f["dtp_mean"] == 0
    # due 31 May, cut 30 Jun: 30 days past due, 500 overdue
    assert (f["days_past_due"], f["overdue_amount"], f["is_b2c"]) == (30, 500, 1)


def test_broken_promises_plans_and_disputes_count_only_once_due():
    inv = [("B", "G1", "2026-04-01", "2026-05-01", 500.0, 0.0, "2026-06-20"),
           ("B", "G2", "2026-05-01", "2026-05-31", 80.0, 0.0, "2026-06-05")]
    promises = [("B", "2026-05-10", "2026-05-20"),   # G1 still unpaid on 20 May: broken
                ("B", "2026-06-01", "2026-06-10"),   # G1 unpaid on 10 Jun: broken (G2 paid)
                ("B", "2026-06-25", "2026-07-05")]   # its day is after the cut: not judged yet
    plans = [("B", "2026-05-02", "broken", "2026-06-01"),
             ("B", "2026-06-02", "broken", "2026-07-10")]  # broken after the cut: unknown then
    disputes = [("B", "2026-05-05"), ("B", "2026-07-02")]
    f = history_features(ledger(inv, promises=promises, plans=plans, disputes=disputes),
                         CUT).loc["B"]
    assert (f["broken_promises"], f["plans"], f["broken_plans"], f["disputes"]) == (2, 2, 1, 1)


def test_a_kept_promise_is_not_broken():
    inv = [("B", "G1", "2026-04-01", "2026-05-01", 500.0, 0.0, "2026-05-15")]
    f = history_features(ledger(inv, promises=[("B", "2026-05-05", "2026-05-20")]), CUT).loc["B"]
    assert f["broken_promises"] == 0


def test_collective_proceedings_count_from_their_day():
    debtors = [("A", "PUBLIC", D("2026-07-15"))]
    inv = [("A", "F1", "2026-01-01", "2026-01-31", 100.0, 100.0, None)]
    before = history_features(ledger(inv, debtors=debtors), CUT).loc["A"]
    after = history_features(ledger(inv, debtors=debtors), date(2026, 7, 20)).loc["A"]
    assert (before["collective"], after["collective"], before["is_public"]) == (0, 1, 1)


def test_features_at_a_cut_ignore_every_later_row():
    """No leakage: rows dated after the cut (payments, reminders, dossiers, promises, plans,
    disputes, invoices) change nothing in the features on the cut."""
    early = ledger(A_INVOICES[:3] + [("A", "F4", "2026-03-31", "2026-04-30", 400.0, 400.0, None)],
                   A_REMINDERS[:3] + [("A", "F4", 1, "2026-04-30")])
    later = ledger(
        A_INVOICES[:3] + [("A", "F4", "2026-03-31", "2026-04-30", 400.0, 0.0, "2026-05-25"),
                          ("A", "F9", "2026-05-10", "2026-06-09", 900.0, 0.0, "2026-05-30")],
        A_REMINDERS, [("A", "F3", "2026-05-20")],
        promises=[("A", "2026-05-02", "2026-05-10")], plans=[("A", "2026-05-03", "broken", "2026-05-04")],
        disputes=[("A", "2026-05-05")])
    cut = date(2026, 5, 1)
    pd.testing.assert_frame_equal(history_features(early, cut), history_features(later, cut))
    pd.testing.assert_frame_equal(history_features(known_on(later, cut), cut),
                                  history_features(later, cut))
    # and the later rows do count once the cut passes them
    assert history_features(later, date(2026, 6, 30)).loc["A", "n_closed"] == 5


def test_features_for_many_debtors_come_in_bulk():
    from recouvrement.entrypoints.risk_scenario import generate

    scenario = generate(400, months=6, seed=3)
    f = history_features(scenario.ledger, date(2026, 10, 1))
    assert len(f) == 400 and f.notna().all().all()
