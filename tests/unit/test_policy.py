import pytest

from recouvrement.domain.policy import PolicyError, load_policy, parse_policy


def test_default_ladder_is_levels_one_to_three():
    policy = load_policy()
    assert [(l.level, l.offset_days, l.relative_to) for l in policy.levels] == [
        (1, 0, "due_date"), (2, 15, "previous_level"), (3, 8, "previous_level")]
    assert policy.min_gap_days == 5 and policy.litigation_after_days == 8


@pytest.mark.parametrize("levels, message", [
    ([], "non-empty"),
    ([{"level": 1, "relative_to": "due_date"}, {"level": 1}], "unique"),
    ([{"level": 2, "relative_to": "due_date"}, {"level": 1}], "increasing"),
    ([{"level": 1, "relative_to": "previous_level"}], "first level"),
    ([{"level": 1, "relative_to": "due_date", "channels": ["fax"]}], "channels"),
    ([{"level": 7, "relative_to": "due_date"}], r"0 \(courtesy\) to 3"),
    ([{"level": "one", "relative_to": "due_date"}], "whole number"),
])
def test_bad_policies_are_refused_with_the_reason(levels, message):
    with pytest.raises(PolicyError, match=message):
        parse_policy({"levels": levels}, "p.yaml")


def test_unreadable_policy_file_names_the_file(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("levels: [")
    with pytest.raises(PolicyError, match="policy.yaml: not valid YAML"):
        load_policy(path)


SEGMENTED = {
    "levels": [{"level": 1, "relative_to": "due_date"}, {"level": 2, "offset_days": 15},
               {"level": 3, "offset_days": 8}],
    "segments": [
        {"name": "consumers", "when": {"kind": "B2C"}, "min_gap_days": 7},
        {"name": "risky", "when": {"risk_class": "high"},
         "levels": [{"level": 1, "relative_to": "due_date", "channels": ["email", "phone"]},
                    {"level": 2, "offset_days": 7}, {"level": 3, "offset_days": 5}]},
        {"name": "small", "when": {"amount_max": "100.00"}, "min_open_amount": "15.00"},
    ],
    "debtors": {"411VIP": {"min_gap_days": 20}, "411RISKY": {"segment": "risky", "litigation_after_days": 15}},
}


def debtor(account="411A", kind="B2B", risk=None):
    from recouvrement.domain.model import Debtor, DebtorKind

    return Debtor(account=account, name="A", kind=DebtorKind(kind), risk_class=risk)


def test_segments_and_overrides_resolve_to_complete_policies():
    from decimal import Decimal

    policy = parse_policy(SEGMENTED, "p.yaml")
    assert policy.for_debtor(debtor(kind="B2C"), Decimal("500")).min_gap_days == 7
    risky = policy.for_debtor(debtor(risk="high"), Decimal("500"))
    assert [l.offset_days for l in risky.levels] == [0, 7, 5] and risky.levels[0].channels == ("email", "phone")
    assert policy.for_debtor(debtor(), Decimal("99.99")).min_open_amount == Decimal("15.00")
    base = policy.for_debtor(debtor(), Decimal("100.01"))
    assert base is policy and base.min_gap_days == 5
    vip = policy.for_debtor(debtor("411VIP", kind="B2C"), Decimal("10"))
    assert vip.min_gap_days == 20 and vip.levels == policy.levels  # an override beats segments
    assert policy.for_debtor(debtor("411RISKY"), Decimal("1")).levels == risky.levels
    assert policy.for_debtor(debtor("411RISKY"), Decimal("1")).litigation_after_days == 15


@pytest.mark.parametrize("change, message", [
    ({"segments": [{"name": "x", "when": {"colour": "red"}}]}, "unknown condition"),
    ({"segments": [{"name": "x", "when": {"kind": "B2X"}}]}, "kind must be one of"),
    ({"segments": [{"name": "x"}]}, "needs `when`"),
    ({"segments": [{"name": "x", "when": {"kind": "B2C"}, "levels": [{"level": 2, "relative_to": "previous_level"}]}]},
     "first level"),
    ({"debtors": {"411A": {"segment": "nope"}}}, "unknown segment"),
    ({"debtors": {"411A": {"min_gap_days": -1}}}, "at least 0"),
    ({"min_open_amount": 12.5}, "quoted strings"),
    ({"colour": "red"}, "unknown key"),
])
def test_bad_segments_and_overrides_say_where(change, message):
    with pytest.raises(PolicyError, match=message):
        parse_policy({**SEGMENTED, **change}, "p.yaml")


def test_a_contractual_rate_below_three_times_the_legal_rate_is_refused():
    from decimal import Decimal

    data = {**SEGMENTED, "contractual_rate": "7.50"}
    with pytest.raises(PolicyError, match="below 3 × the legal rate"):
        parse_policy(data, "p.yaml", legal_rate=Decimal("2.62"))
    assert parse_policy({**SEGMENTED, "contractual_rate": "7.86"}, "p.yaml",
                        legal_rate=Decimal("2.62")).contractual_rate == Decimal("7.86")


def scored(probability, risk="medium"):
    from recouvrement.domain.model import Debtor

    return Debtor(account="411P", name="P", risk_class=risk, risk_probability=probability)


@pytest.mark.parametrize("probability, segment", [
    (0.95, "likely-late"), (0.60, "likely-late"),  # the band's floor is in it
    (0.59, None), (0.11, None),
    (0.10, "reliable"), (0.0, "reliable"),
    (None, None),  # scored by the hand-set rules: in no band
])
def test_default_policy_bands_of_the_learned_chance_of_paying_late(probability, segment):
    from decimal import Decimal

    policy = load_policy()
    names = {s.name: s.policy for s in policy.segments}
    chosen = policy.for_debtor(scored(probability), Decimal("500"))
    assert chosen is (names[segment] if segment else policy)


def test_a_likely_late_debtor_gets_the_phone_and_the_registered_letter_earlier_a_reliable_one_a_later_first_reminder():
    from decimal import Decimal

    policy = load_policy()
    late = policy.for_debtor(scored(0.8), Decimal("500"))
    reliable = policy.for_debtor(scored(0.05), Decimal("500"))
    # level 2 (letter) days after the due date: base 0 + 15, likely late 0 + 7
    assert [(l.offset_days, l.channels) for l in policy.levels][:2] == [(0, ("email",)), (15, ("email", "letter"))]
    assert [(l.offset_days, l.channels) for l in late.levels][:2] == [(0, ("email", "phone")), (7, ("email", "letter"))]
    assert reliable.levels[0].offset_days == 5 and reliable.levels[0].channels == ("email",)


@pytest.mark.parametrize("when, message", [
    ({"probability_min": "1.5"}, "between 0 and 1"),
    ({"probability_max": 0.2}, "quoted strings"),
])
def test_probability_bands_are_checked(when, message):
    with pytest.raises(PolicyError, match=message):
        parse_policy({**SEGMENTED, "segments": [{"name": "x", "when": when}]}, "p.yaml")


@pytest.mark.parametrize("template, refused", [
    ("level1", None), ("level1_soft", None), ("level2", None),  # words of a reminder
    ("level3", "words a formal_notice notice, not a reminder"),
    ("level1/../../x", "template must be a name"), ("level1_Soft", "template must be a name"),
])
def test_a_level_template_is_a_plain_name_of_the_level_s_kind(template, refused):
    # level 1 is a reminder, level 2 (the last) the formal notice
    data = {"levels": [{"level": 1, "relative_to": "due_date", "template": template},
                       {"level": 2}]}
    if refused is None:
        assert parse_policy(data).levels[0].template == template
    else:
        with pytest.raises(PolicyError, match=refused):
            parse_policy(data)


def test_the_reliable_band_gets_the_soft_first_reminder():
    from datetime import date
    from decimal import Decimal

    from recouvrement.domain.model import Debtor
    from recouvrement.adapters.mail.render import Creditor, InvoiceRow, render_reminder

    policy = load_policy().for_debtor(scored(0.05), Decimal("500"))
    assert policy.levels[0].template == "level1_soft"
    for language, words in (("fr", "Vous réglez habituellement nos factures à l'heure"),
                            ("en", "You usually pay our invoices on time")):
        row = InvoiceRow(number="F1", issue_date=date(2026, 10, 1), due_date=date(2026, 10, 31),
                         amount=Decimal("500.00"), open_amount=Decimal("500.00"), currency="EUR",
                         days_late=5)
        mail = render_reminder(level=1, template=policy.levels[0].template,
                               debtor=Debtor(account="411P", name="P", language=language),
                               invoices=[row], as_of=date(2026, 11, 5),
                               creditor=Creditor(name="Exemple SAS", sender="r@exemple.example.com"))
        assert words in mail.text and words in mail.html
# --- what each level is: kind and registered -------------------------------------------

R1 = {"level": 1, "relative_to": "due_date"}


@pytest.mark.parametrize("levels, message", [
    # two formal notices
    ([{**R1, "kind": "formal_notice"}, {"level": 2, "kind": "formal_notice"}],
     r"p.yaml: exactly one level must be the formal notice .* found level 1, 2"),
    # the formal notice is not the last level
    ([{**R1, "kind": "formal_notice"}, {"level": 2, "kind": "reminder"}],
     r"it must be the last level \(level 2\); found level 1"),
    # no formal notice at all
    ([{**R1, "kind": "reminder"}, {"level": 2, "kind": "reminder"}], "found none"),
    ([{**R1, "kind": "warning"}, {"level": 2}], r"levels\[0\]: kind must be one of"),
    ([{**R1, "registered": "yes"}, {"level": 2}], r"levels\[0\]: registered must be true or false"),
    ([{**R1}, {"level": 2, "kind": "courtesy"}, {"level": 3}], "only level 0, is the courtesy notice"),
    ([{"level": 0, "relative_to": "due_date"}], "level 0 says formal_notice"),
    ([{"level": 0, "relative_to": "due_date", "kind": "reminder"}, {"level": 1}], "level 0 says reminder"),
    # a built-in template of another kind: a formal notice worded as a reminder
    ([{**R1}, {"level": 2, "template": "level2"}],
     r"levels\[1\]: template level2 words a reminder notice, not a formal_notice \(use level3"),
    ([{**R1, "template": "level3"}, {"level": 2}], r"levels\[0\]: template level3 words a formal"),
])
def test_a_ladder_whose_kinds_do_not_hold_together_is_refused(levels, message):
    with pytest.raises(PolicyError, match=message):
        parse_policy({"levels": levels}, "p.yaml")


def test_a_segment_ladder_without_its_formal_notice_last_names_the_segment():
    data = {"levels": [R1, {"level": 2}],
            "segments": [{"name": "x", "when": {"kind": "B2C"},
                          "levels": [{**R1, "kind": "formal_notice"}, {"level": 2, "kind": "reminder"}]}]}
    with pytest.raises(PolicyError, match=r"p.yaml: segments\[0\]: exactly one level"):
        parse_policy(data, "p.yaml")


@pytest.mark.parametrize("levels, expected", [
    # kind, registered, template of each level, when the file does not say:
    # level 0 courtesy, the last level the formal notice, the others reminders;
    # registered from level 2 on and for the formal notice
    ([{"level": 0, "relative_to": "due_date", "offset_days": -5}, {"level": 1}, {"level": 2},
      {"level": 3}],
     [("courtesy", False, "level0"), ("reminder", False, "level1"), ("reminder", True, "level2"),
      ("formal_notice", True, "level3")]),
    ([R1, {"level": 2}], [("reminder", False, "level1"), ("formal_notice", True, "level3")]),
    ([R1], [("formal_notice", True, "level3")]),
    ([R1, {"level": 2, "registered": False}],
     [("reminder", False, "level1"), ("formal_notice", False, "level3")]),
    ([{**R1, "registered": True}, {"level": 3, "template": "my_notice"}],
     [("reminder", True, "level1"), ("formal_notice", True, "my_notice")]),
])
def test_levels_that_do_not_say_get_the_documented_defaults(levels, expected):
    policy = parse_policy({"levels": levels}, "p.yaml")
    assert [(l.kind, l.registered, l.template) for l in policy.levels] == expected


def test_everyone_asks_the_policy_which_level_is_the_formal_notice():
    default = load_policy()
    assert [(l.kind, l.registered) for l in default.levels] == [
        ("reminder", False), ("reminder", True), ("formal_notice", True)]
    assert default.formal_notice_level == 3 and default.is_formal_notice(3)
    assert not default.is_formal_notice(2) and not default.is_formal_notice(None)
    two = parse_policy({"levels": [R1, {"level": 2, "offset_days": 15}]}, "p.yaml")
    assert two.formal_notice_level == 2 and two.is_formal_notice(2) and not two.is_formal_notice(3)


def test_a_level_is_named_by_its_kind_not_its_number():
    default = load_policy()
    assert [default.level_name(n) for n in (1, 2, 3)] == ["reminder", "second reminder",
                                                          "formal notice"]
    assert default.level_name(3, "fr") == "mise en demeure"
    assert default.level_name(7) == "7"
    two = parse_policy({"name": "two", "levels": [
        {"level": 1, "offset_days": 0, "relative_to": "due_date", "kind": "reminder"},
        {"level": 2, "offset_days": 10, "kind": "formal_notice"}]})
    assert [two.level_name(n, "fr") for n in (1, 2)] == ["rappel", "mise en demeure"]
