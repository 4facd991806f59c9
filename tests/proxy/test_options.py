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
    with pytest.raises(exceptions.OptionsError, match=r"headroom_db=postgres ql://x: .* is not a database URL"):
        parse_settings("postgres ql://x", "", "cache")


def test_a_bad_database_url_is_named_without_its_password():
    with pytest.raises(exceptions.OptionsError) as failure:
        parse_settings("postgresql://proxy:hunter2secret@db:notaport/headroom", "", "cache")
    message = str(failure.value)
    assert "postgresql://proxy:***@db:notaport/headroom" in message and "is not a database URL" in message
    assert "hunter2secret" not in message
    assert "hunter2secret" not in "".join(map(str, (failure.value.__cause__, failure.value.__context__)))


def test_the_database_comes_from_the_environment_when_the_option_is_empty(monkeypatch):
    monkeypatch.setenv("HEADROOM_DB", "postgresql://proxy:pw-from-env@db/headroom")
    assert parse_settings("", "", "cache").db == "postgresql://proxy:pw-from-env@db/headroom"
    assert parse_settings("/tmp/given.db", "", "cache").db == "/tmp/given.db"  # the option wins


def test_the_database_url_can_be_read_from_a_file(tmp_path):
    url_file = tmp_path / "db-url"
    url_file.write_text("postgresql://proxy:pw-in-file@db/headroom\n")
    settings = parse_settings(f"@{url_file}", "", "cache")
    assert settings.db == "postgresql://proxy:pw-in-file@db/headroom"
    assert "pw-in-file" not in repr(settings)


@pytest.mark.parametrize("content", [None, "", "postgresql://a@h/x\npostgresql://b@h/y\n"])
def test_a_database_url_file_that_cannot_be_used_names_the_file(tmp_path, content):
    url_file = tmp_path / "db-url"
    if content is not None:
        url_file.write_text(content)
    with pytest.raises(exceptions.OptionsError, match=rf"headroom_db=@{url_file}: .*{url_file}"):
        parse_settings(f"@{url_file}", "", "cache")
