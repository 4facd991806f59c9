from headroom_mitm.addon.hosts import DEFAULT_PROVIDER_HOSTS, HostMatcher


def test_default_providers_are_matched_whatever_the_case_or_trailing_dot():
    matches = HostMatcher(DEFAULT_PROVIDER_HOSTS)
    assert matches("api.anthropic.com")
    assert matches("API.Anthropic.COM.")
    assert matches("chatgpt.com:443")


def test_lookalike_and_other_hosts_are_not_providers():
    matches = HostMatcher(DEFAULT_PROVIDER_HOSTS)
    for host in ("anthropic.com", "api.anthropic.com.evil.test", "evilapi.openai.com", "github.com", "", None):
        assert not matches(host), host


def test_globs_added_by_rules_match_subdomains_only():
    matches = HostMatcher(["*.openai.azure.com"])
    assert matches("team.openai.azure.com")
    assert not matches("openai.azure.com")
    assert "*.openai.azure.com" in matches.patterns


def test_ip_literals_never_match_a_name():
    matches = HostMatcher(DEFAULT_PROVIDER_HOSTS)
    assert not matches("[::1]:443")
    assert not matches("127.0.0.1")
