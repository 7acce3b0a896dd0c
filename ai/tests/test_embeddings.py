from __future__ import annotations

import hashlib
import json
import socket

import numpy as np
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from ai import embeddings, knowledge
from ai.embeddings import EmbeddingError, LocalEmbedding, OpenAIEmbedding, embedding_function


def _cosine(a, b) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_it_embeds_locally_into_unit_vectors_of_384_dimensions():
    first, second = LocalEmbedding()(["Timely filing limit passed", "Timely filing limit passed"])

    assert first.shape == (384,)
    assert np.linalg.norm(first) == pytest.approx(1.0, abs=1e-4)
    assert np.allclose(first, second)


def test_it_puts_texts_of_the_same_meaning_close_together():
    question, answer, other = LocalEmbedding()(
        [
            "the claim needs a prior authorization",
            "No prior authorization: the service needed precertification and the payer has none.",
            "The patient's deductible applies; the patient owes this amount.",
        ]
    )

    assert _cosine(question, answer) > _cosine(question, other) + 0.2


def test_it_loads_and_runs_the_local_model_with_no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    embeddings._local_model.cache_clear()

    [vector] = LocalEmbedding()(["missing modifier"])

    assert vector.shape == (384,)


def test_it_refuses_a_model_file_that_is_not_the_expected_one(tmp_path):
    model = tmp_path / "model.onnx"
    model.write_bytes(b"not a model")

    with pytest.raises(EmbeddingError, match="not the expected MiniLM model"):
        embeddings._MiniLM(model, embeddings.VOCAB_PATH)


def test_it_chooses_the_embedding_from_settings(settings):
    settings.EMBEDDINGS = "local"
    assert isinstance(embedding_function(), LocalEmbedding)

    settings.EMBEDDINGS = "openai"
    settings.OPENAI_EMBEDDING_MODEL = "text-embedding-3-large"
    function = embedding_function()
    assert isinstance(function, OpenAIEmbedding)
    assert function.get_config() == {"model": "text-embedding-3-large"}  # never the API key


def _fake_vector(text: str) -> list[float]:
    digest = hashlib.sha256(text.lower().encode()).digest()
    return [byte / 255 for byte in digest[:8]]


@pytest.fixture
def fake_openai(settings):
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    requests = []

    def handle(request: Request) -> Response:
        body = json.loads(request.data)
        requests.append({"body": body, "authorization": request.headers.get("Authorization")})
        # Answered in reverse order: the client must put them back by index.
        data = [
            {"object": "embedding", "index": i, "embedding": _fake_vector(text)} for i, text in enumerate(body["input"])
        ]
        reply = {
            "object": "list",
            "data": data[::-1],
            "model": body["model"],
            "usage": {"prompt_tokens": 1, "total_tokens": 1},
        }
        return Response(json.dumps(reply), content_type="application/json")

    server.expect_request("/v1/embeddings", method="POST").respond_with_handler(handle)
    settings.EMBEDDINGS = "openai"
    settings.OPENAI_API_KEY = "sk-test"
    settings.OPENAI_BASE_URL = server.url_for("/v1")
    settings.OPENAI_EMBEDDING_MODEL = "text-embedding-3-small"
    settings.OPENAI_MAX_RETRIES = 0
    server.requests = requests
    yield server
    server.clear()
    server.stop()


def test_it_calls_the_openai_endpoint_at_the_configured_base_url(fake_openai):
    vectors = OpenAIEmbedding()(["first", "second", ""])

    [request] = fake_openai.requests
    assert request["body"]["model"] == "text-embedding-3-small"
    assert request["body"]["input"] == ["first", "second", " "]
    assert request["authorization"] == "Bearer sk-test"
    assert np.allclose(vectors[0], _fake_vector("first"), atol=1e-6)
    assert np.allclose(vectors[1], _fake_vector("second"), atol=1e-6)


def test_it_reports_an_endpoint_failure_as_an_embedding_error(settings):
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    server.expect_request("/v1/embeddings").respond_with_json({"error": {"message": "bad model"}}, status=400)
    settings.OPENAI_API_KEY = "sk-test"
    settings.OPENAI_BASE_URL = server.url_for("/v1")
    settings.OPENAI_MAX_RETRIES = 0
    try:
        with pytest.raises(EmbeddingError, match="bad model"):
            OpenAIEmbedding("no-such-model")(["x"])
    finally:
        server.stop()


@pytest.mark.django_db
def test_it_indexes_and_searches_with_openai_embeddings(
    fake_openai, settings, tmp_path, django_capture_on_commit_callbacks
):
    from ai import services
    from billingpulse.tests.factories import PracticeFactory

    settings.CHROMA_PATH = tmp_path / "chroma"
    settings.CHROMA_URL = ""
    knowledge.reset_clients()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            practice = PracticeFactory()
            [policy] = services.save_entries(
                practice.pk, knowledge.PAYER_POLICIES, [{"payer": "Aetna", "text": "Appeal within 60 days."}]
            )

        assert knowledge.collection(knowledge.PAYER_POLICIES).name == "bp-payer-policies-openai-text-embedding-3-small"
        hits = knowledge.search(practice.pk, knowledge.PAYER_POLICIES, "Appeal within 60 days.", payers=["aetna"])
        assert [hit.id for hit in hits] == [f"payer-policy:{policy.pk}"]
        assert hits[0].score == pytest.approx(1.0, abs=1e-3)
    finally:
        knowledge.reset_clients()
