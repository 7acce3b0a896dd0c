"""The knowledge base's search index: denial codes and payer policies in Chroma.

The database is the source of truth (``ai.models``); Chroma holds one vector per entry so a
call can find the entries that matter to it by meaning. The services keep the index in step:
after each commit a Celery task updates it (``sync_on_commit``, ``ai.tasks.sync_index``), and
``manage.py ingest_knowledge --reindex`` rebuilds it from the database.

* Client: ``chromadb.HttpClient`` when ``CHROMA_URL`` is set (use it when several processes
  write: web and worker), otherwise an embedded ``PersistentClient`` in ``CHROMA_PATH``.
* Two collections per embedding model (``ai.embeddings.embedding_slug``), so switching
  ``EMBEDDINGS`` never mixes vectors of different models; reindex after a switch.
* Entry ids are ``denial-code:<pk>`` / ``payer-policy:<pk>``; metadata carries
  ``practice_id`` and every query is filtered by it, so one practice never retrieves
  another's entries.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterable
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from ai.embeddings import embedding_function, embedding_slug
from ai.models import DenialCode, PayerPolicy
from ai.outcome import KnowledgeHit

logger = logging.getLogger(__name__)

DENIAL_CODES = "denial_code"
PAYER_POLICIES = "payer_policy"
KINDS = (DENIAL_CODES, PAYER_POLICIES)
MODELS = {DENIAL_CODES: DenialCode, PAYER_POLICIES: PayerPolicy}
ID_PREFIX = {DENIAL_CODES: "denial-code", PAYER_POLICIES: "payer-policy"}
COLLECTION_PREFIX = {DENIAL_CODES: "bp-denial-codes", PAYER_POLICIES: "bp-payer-policies"}
# Denial codes resemble each other: asked with a starter code's description, the local model
# scores the other starter codes 0.3–0.7. From 0.55 up are mostly true neighbours, such as
# 26/27 (coverage dates), 31/140 (member identity) or 226/227 (information not received).
RELATED_MIN_SCORE = {"local": 0.55, "openai": 0.45}
BATCH = 256
_GROUP = re.compile(r"^(?:CO|PR|OA|PI|CR)[\s\-–:]*(?=[A-Z0-9])")

_clients: dict[tuple, object] = {}


def normalize_code(code: str | None) -> str:
    """A reason code as the knowledge base stores it: "co-16 " → "16", "PR 1" → "1"."""
    value = (code or "").strip().upper()
    return _GROUP.sub("", value).strip()


# --- the client and collections -------------------------------------------------------


def client():
    """The Chroma client for the current settings (one per process and configuration)."""
    import chromadb
    from chromadb.config import Settings

    key = (settings.CHROMA_URL, str(settings.CHROMA_PATH))
    if key not in _clients:
        chroma_settings = Settings(anonymized_telemetry=False)
        if settings.CHROMA_URL:
            url = urlsplit(settings.CHROMA_URL)
            _clients[key] = chromadb.HttpClient(
                host=url.hostname or "localhost",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        else:
            _clients[key] = chromadb.PersistentClient(path=str(settings.CHROMA_PATH), settings=chroma_settings)
    return _clients[key]


def reset_clients() -> None:
    """Forget cached clients (tests point CHROMA_PATH at a fresh folder each time)."""
    from chromadb.api.shared_system_client import SharedSystemClient

    _clients.clear()
    SharedSystemClient.clear_system_cache()


def collection_name(kind: str) -> str:
    return f"{COLLECTION_PREFIX[kind]}-{embedding_slug()}"


def collection(kind: str):
    # Always with our embedding function: Chroma's default one downloads a model.
    return client().get_or_create_collection(
        collection_name(kind), embedding_function=embedding_function(), configuration={"hnsw": {"space": "cosine"}}
    )


# --- keeping the index in step ----------------------------------------------------------


def entry_id(kind: str, pk: int) -> str:
    return f"{ID_PREFIX[kind]}:{pk}"


def document(entry: DenialCode | PayerPolicy) -> str:
    """The text embedded for an entry."""
    if isinstance(entry, DenialCode):
        # The remedy's words help too: "resubmit with the authorization number" (measured in
        # test_knowledge_retrieval: recall@1 rose from 14/15 to 15/15 with it).
        remedy = f" What to do: {entry.remedy}" if entry.remedy else ""
        return f"Denial reason code {entry.code}. {entry.description}{remedy}"
    heading = f"{entry.title}. " if entry.title else ""
    return f"{heading}{entry.text}"


def metadata(entry: DenialCode | PayerPolicy) -> dict:
    if isinstance(entry, DenialCode):
        return {"practice_id": entry.practice_id, "code": entry.code}
    return {
        "practice_id": entry.practice_id,
        "payer": entry.payer,
        "payer_key": _payer_key(entry.payer),
        "effective_date": entry.effective_date.isoformat() if entry.effective_date else "",
    }


def sync(kind: str, pks: Iterable[int]) -> None:
    """Make the index match the database for these entries: upsert the ones that exist, drop the rest."""
    pks = list(dict.fromkeys(pks))
    if not pks:
        return
    entries = list(MODELS[kind].objects.filter(pk__in=pks))
    found = {entry.pk for entry in entries}
    target = collection(kind)
    for start in range(0, len(entries), BATCH):
        batch = entries[start : start + BATCH]
        target.upsert(
            ids=[entry_id(kind, e.pk) for e in batch],
            documents=[document(e) for e in batch],
            metadatas=[metadata(e) for e in batch],
        )
    gone = [entry_id(kind, pk) for pk in pks if pk not in found]
    if gone:
        target.delete(ids=gone)


def sync_on_commit(kind: str, pks: Iterable[int]) -> None:
    """Update the index in the worker once the current transaction commits.

    Embedding runs in Celery (the starter set takes seconds), so saving an entry or creating a
    practice never waits for it; a worker retries while Chroma is away.
    """
    from ai import tasks

    pks = list(pks)
    if pks:
        transaction.on_commit(partial(tasks.sync_index.delay, kind, pks))


def reindex(practice_id: int | None = None) -> dict[str, int]:
    """Rebuild the index from the database: every practice, or one. Returns entries indexed per kind."""
    counts = {}
    for kind in KINDS:
        if practice_id is None:
            # Chroma raises different errors for a missing collection, by client and version.
            with contextlib.suppress(Exception):
                client().delete_collection(collection_name(kind))
        else:
            collection(kind).delete(where={"practice_id": practice_id})
        rows = MODELS[kind].objects.all()
        if practice_id is not None:
            rows = rows.filter(practice_id=practice_id)
        pks = list(rows.values_list("pk", flat=True))
        for start in range(0, len(pks), BATCH):
            sync(kind, pks[start : start + BATCH])
        counts[kind] = len(pks)
    return counts


# --- search -----------------------------------------------------------------------------


def search(
    practice_id: int, kind: str, query: str, *, limit: int = 5, payers: Iterable[str] = ()
) -> list[KnowledgeHit]:
    """Entries of one kind and practice closest in meaning to ``query``, best first.

    ``payers`` narrows payer policies to those whose payer is one of these names or IDs
    (case-insensitive). Raises when Chroma or the embedding model is unavailable.
    """
    where: dict = {"practice_id": practice_id}
    keys = sorted({_payer_key(p) for p in payers if p and p.strip()})
    if keys:
        where = {"$and": [where, {"payer_key": {"$in": keys}}]}
    target = collection(kind)
    result = target.query(query_texts=[query], n_results=limit, where=where, include=["distances"])
    ids, distances = result["ids"][0], result["distances"][0]
    scores = {int(id_.split(":", 1)[1]): 1.0 - float(distance) for id_, distance in zip(ids, distances, strict=True)}
    # The database decides what is shown, so an entry deleted a moment ago is never returned.
    entries = MODELS[kind].objects.filter(practice_id=practice_id, pk__in=scores)
    return sorted((hit(entry, scores[entry.pk]) for entry in entries), key=lambda h: -(h.score or 0))


def search_for_call(
    practice_id: int, *, denial_code: str | None, payer: str, payer_id: str = "", limit: int = 4
) -> list[KnowledgeHit]:
    """What the knowledge base knows for a call about a claim, most useful first.

    1. the denial code's own entry, matched exactly on the code without its group;
    2. then, by meaning, this payer's policies (payer matched by name or payer ID) and
       related denial codes, alternating.

    Never raises for Chroma: when the index is unavailable it logs and returns what the
    database matches exactly (the code's entry and the payer's newest policies).
    """
    if limit <= 0:
        return []
    code = normalize_code(denial_code)
    exact = DenialCode.objects.filter(practice_id=practice_id, code=code).first() if code else None
    hits = [hit(exact, 1.0)] if exact else []
    payers = [p for p in (payer, payer_id) if p and p.strip()]
    if not code:
        # Nothing to match by meaning: a status call gets the payer's current policies.
        return hits + _payer_policies(practice_id, payers, limit - len(hits))
    # The description alone: framing it ("Denial reason code 197. …") pulled the payer policies
    # that matter (a prior-authorization rule for 197) below ones that do not.
    query = exact.description if exact else f"Claim denied with reason code {code}."
    try:
        policies = search(practice_id, PAYER_POLICIES, query, limit=limit, payers=payers) if payers else []
        # A code the practice has not described carries no meaning to compare other codes with.
        related = [
            h
            for h in (search(practice_id, DENIAL_CODES, query, limit=limit + 1) if exact else [])
            if h.id != hits[0].id and (h.score or 0) >= RELATED_MIN_SCORE[settings.EMBEDDINGS]
        ]
    except Exception:
        logger.warning("Knowledge search unavailable; using exact matches only", exc_info=True)
        return (hits + _payer_policies(practice_id, payers, limit - len(hits)))[:limit]
    for index in range(max(len(policies), len(related))):
        hits += policies[index : index + 1] + related[index : index + 1]
    return hits[:limit]


def hit(entry: DenialCode | PayerPolicy, score: float | None = None) -> KnowledgeHit:
    if isinstance(entry, DenialCode):
        text = entry.description + (f"\nUsual remedy: {entry.remedy}" if entry.remedy else "")
        return KnowledgeHit(
            entry_id(DENIAL_CODES, entry.pk),
            DENIAL_CODES,
            f"Reason code {entry.code}",
            text,
            score,
            code=entry.code,
            remedy=entry.remedy,
        )
    title = f"{entry.payer} — {entry.title}" if entry.title else entry.payer
    return KnowledgeHit(entry_id(PAYER_POLICIES, entry.pk), PAYER_POLICIES, title, entry.text, score)


def _payer_policies(practice_id: int, payers: list[str], limit: int) -> list[KnowledgeHit]:
    if not payers or limit <= 0:
        return []
    match = Q()
    for name in payers:
        match |= Q(payer__iexact=name.strip())
    newest_first = (F("effective_date").desc(nulls_last=True), "-pk")
    policies = PayerPolicy.objects.filter(match, practice_id=practice_id).order_by(*newest_first)
    return [hit(policy) for policy in policies[:limit]]


def _payer_key(payer: str) -> str:
    return payer.strip().lower()
