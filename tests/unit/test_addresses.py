"""Addresses: formatting and parsing round-trip, including awkward names."""

import pytest

from reconciler import addresses


@pytest.mark.parametrize("name", ["Status", "End Time", 'Say "hi"', "a\\b", "ünïcode", "x.y[z]"])
def test_property_address_round_trips(name):
    address = addresses.notion_property("cli_sessions", name)
    assert addresses.parse(address) == (["notion", "cli_sessions"], [("property", name)])


def test_option_and_table_addresses():
    assert addresses.notion_option("t", "S", "Done") == 'notion.t.property["S"].option["Done"]'
    assert addresses.parse('supabase.public.tasks.column["status"]') == (
        ["supabase", "public", "tasks"], [("column", "status")])


@pytest.mark.parametrize("bad", ["", ".x", 'notion.t.property["S"', "notion.t property"])
def test_malformed_addresses_are_refused(bad):
    with pytest.raises(ValueError):
        addresses.parse(bad)


def test_target_matching_is_by_prefix_of_whole_parts():
    assert addresses.matches('notion.tasks.property["A"]', "notion.tasks")
    assert not addresses.matches("notion.tasks_archive", "notion.tasks")
