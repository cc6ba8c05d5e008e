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
