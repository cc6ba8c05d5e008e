"""Every audit event the code writes is in the catalogue, with a French and an English label."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from recouvrement.adapters.audit import Event, record
from recouvrement.domain.events import EventKind, UnknownEventKind, event_kind, event_label

PACKAGE = Path(__file__).resolve().parents[2] / "recouvrement"

# The events whose kind is built from a value: each value the code can give.
DYNAMIC = {
    "reminder.": ("sent", "failed", "given_up"),  # sending.ClaimWriter.finish(status)
    "quarantine.": ("released", "superseded"),  # quarantine.resolve
    "plan.": ("broken", "completed"),  # planning._settle_plans: the non-honoured states
}


def _strings(node: ast.AST) -> list[str]:
    """The event codes an expression can give: literals, `EventKind` members, both arms of
    `a if c else b`, and an f-string's prefix expanded with DYNAMIC."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id == "EventKind"):
        return [EventKind[node.attr].value]  # a KeyError names a member that does not exist
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    if isinstance(node, ast.JoinedStr):
        prefix = node.values[0].value if isinstance(node.values[0], ast.Constant) else ""
        assert prefix in DYNAMIC, f"an event kind built as f'{prefix}…': list its values in DYNAMIC"
        return [prefix + v for v in DYNAMIC[prefix]]
    return []


def written_events() -> dict[str, str]:
    """Code -> where: every event kind given to `Event(...)` or as `event=` in the package."""
    found: dict[str, str] = {}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            args = []
            if name == "Event" and node.args:
                args.append(node.args[0])
            args += [k.value for k in node.keywords if k.arg == "event"]
            for arg in args:
                for code in _strings(arg):
                    found.setdefault(code, f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
        # Default values of an `event=` parameter (lifecycle._change).
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for arg, default in zip(node.args.kwonlyargs, node.args.kw_defaults):
                    if arg.arg == "event" and default is not None:
                        for code in _strings(default):
                            found.setdefault(code, f"{path.relative_to(PACKAGE.parent)}:"
                                                   f"{node.lineno}")
    return found


def test_the_scan_finds_the_events_written_across_the_package():
    found = written_events()
    # A few from different modules, literal, conditional, f-string and default-argument ones.
    for code in ("import.file_loaded", "invoice.credit_set_off", "invoice.dispute_closed",
                 "plan.broken", "reminder.given_up", "litigation.status_changed",
                 "litigation.payment_reversed", "quarantine.superseded"):
        assert code in found, code
    assert len(found) >= 40


def test_every_event_written_is_catalogued():
    missing = {code: where for code, where in written_events().items()
               if code not in {k.value for k in EventKind}}
    assert not missing, f"events written but not in recouvrement/domain/events.py: {missing}"


def test_every_catalogued_kind_has_a_french_and_an_english_label():
    for kind in EventKind:
        assert kind.label("fr") and kind.label("en"), kind
        assert kind.label("fr") != kind.value and "." not in kind.label("fr").split()[0], kind
    labels = [k.label("fr") for k in EventKind]
    assert len(set(labels)) == len(labels), "two kinds share a French label"


@pytest.mark.parametrize("code, fr, en", [
    ("plan.broken", "échéancier non respecté", "payment plan broken"),
    ("invoice.credit_set_off", "avoir ou paiement imputé (compensation)", "credit set off"),
    ("litigation.payment_received", "paiement reçu après mise en file",
     "payment received after queueing"),
])
def test_a_code_reads_as_its_label(code, fr, en):
    assert event_label(code) == fr
    assert event_label(code, "en") == en
    assert event_kind(code) is EventKind(code)


def test_an_unknown_kind_is_refused_and_an_old_one_keeps_its_code_when_read():
    with pytest.raises(UnknownEventKind, match="invoice.teleported"):
        event_kind("invoice.teleported")
    assert event_label("invoice.teleported") == "invoice.teleported"


def test_the_writer_refuses_an_unknown_kind_before_touching_the_session():
    class Untouchable:
        def __getattr__(self, name):
            raise AssertionError(f"the session was used ({name}) for an unknown event")

    with pytest.raises(UnknownEventKind, match="litigation.vanished"):
        record(Untouchable(), [Event("debtor.created", "411A"), Event("litigation.vanished")],
               "user:test")


def test_a_kind_is_its_code_so_the_hash_of_an_entry_does_not_change():
    assert EventKind.PLAN_BROKEN == "plan.broken"
    assert isinstance(EventKind.PLAN_BROKEN.value, str)
    assert type(EventKind.PLAN_BROKEN.value) is str
