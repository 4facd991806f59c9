import pytest
from mitmproxy import exceptions

from headroom_mitm.addon.options import parse_settings


def test_valid_values_are_normalised():
    settings = parse_settings(" /tmp/x.db ", "", " Token ")
    assert (settings.db, settings.rules, settings.mode) == ("/tmp/x.db", None, "token")


def test_a_bad_mode_names_the_option_and_value():
    with pytest.raises(exceptions.OptionsError, match=r"headroom_mode='fast'"):
        parse_settings("", "", "fast")


def test_a_bad_database_url_names_the_option_and_value():
    with pytest.raises(exceptions.OptionsError, match=r"headroom_db='postgres ql://x'"):
        parse_settings("postgres ql://x", "", "cache")
