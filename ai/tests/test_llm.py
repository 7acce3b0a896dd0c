from __future__ import annotations

from ai import llm


def test_it_builds_the_client_from_settings(settings):
    settings.OPENAI_API_KEY = "sk-test"
    settings.OPENAI_BASE_URL = "http://127.0.0.1:9/v1"
    settings.OPENAI_TIMEOUT = 7
    settings.OPENAI_MAX_RETRIES = 1
    with llm.client() as client:
        assert client.api_key == "sk-test"
        assert str(client.base_url).rstrip("/") == "http://127.0.0.1:9/v1"
        assert client.timeout == 7.0
        assert client.max_retries == 1


def test_it_gives_a_local_server_a_placeholder_key(settings):
    settings.OPENAI_API_KEY = ""
    settings.OPENAI_BASE_URL = "http://127.0.0.1:9/v1"
    with llm.client() as client:
        assert client.api_key == "not-needed"
