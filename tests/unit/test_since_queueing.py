"""What happened to a queued claim, read from the debtor's audit trail."""

from __future__ import annotations

from recouvrement.domain.events import disputed_since_queueing, since_queueing


def entry(id_, event, subject=None, at="2026-11-05T09:00:00Z", **details):
    return {"id": id_, "at": at, "event": event, "subject": subject, "details": details,
            "redacted": False}


TRAIL = [
    entry(1, "invoice.dispute_opened", "F1", at="2026-11-01T09:00:00Z", reason="avant"),
    entry(2, "invoice.dispute_closed", "F1", at="2026-11-02T09:00:00Z"),
    entry(3, "litigation.queued", "D1", at="2026-11-04T09:00:00Z"),
    entry(4, "litigation.payment_received", "D1", invoice="F1", amount="500.00",
          received_on="2026-11-05", balance="700.00"),
    entry(5, "litigation.payment_received", "D2", invoice="G1", amount="10.00"),  # other dossier
    entry(6, "invoice.dispute_opened", "F9", reason="pas la nôtre"),  # not claimed
    entry(7, "invoice.dispute_opened", "F1", at="2026-11-06T10:00:00Z", reason="livraison"),
    entry(8, "reminder.sent", "k"),  # not about the claim's standing
    entry(9, "promise.recorded", until="2026-12-15"),
    entry(10, "invoice.credit_set_off", "F1", set_off="50.00", open_amount="650.00",
          export_date="2026-11-09"),
]


def test_only_what_came_after_the_queueing_and_concerns_the_claim():
    rows = since_queueing(TRAIL, "D1", {"F1"}, "2026-11-04")
    assert [(r["entry"], r["event"], r["invoice"], r["on"]) for r in rows] == [
        (4, "litigation.payment_received", "F1", "2026-11-05"),
        (7, "invoice.dispute_opened", "F1", "2026-11-06"),
        (9, "promise.recorded", None, "2026-11-05"),
        (10, "invoice.credit_set_off", "F1", "2026-11-09")]  # dated by the export that showed it
    assert rows[0]["details"] == {"amount": "500.00", "received_on": "2026-11-05"}
    assert rows[1]["label"] == "contestation ouverte"
    assert disputed_since_queueing(rows) == {"F1": rows[1]}


def test_without_its_queueing_entry_the_day_of_queueing_is_the_mark():
    trail = [e for e in TRAIL if e["event"] != "litigation.queued"]
    rows = since_queueing(trail, "D1", {"F1"}, "2026-11-04")
    assert [r["entry"] for r in rows] == [4, 7, 9, 10]
    assert [r["entry"] for r in since_queueing(trail, "D1", {"F1"}, "2026-11-05")] == [7]


def test_an_erased_entry_and_a_dispute_closed_since_leave_no_warning():
    trail = TRAIL + [entry(11, "invoice.dispute_closed", "F1", at="2026-11-10T09:00:00Z")]
    trail[3] = {**trail[3], "redacted": True}
    rows = since_queueing(trail, "D1", {"F1"}, "2026-11-04")
    assert 4 not in [r["entry"] for r in rows]
    assert disputed_since_queueing(rows) == {}
