from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from ai import knowledge, services
from ai.models import DenialCode, PayerPolicy
from billingpulse.tests.factories import PracticeFactory

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = StringIO()
    call_command("ingest_knowledge", *[str(a) for a in args], stdout=out)
    return out.getvalue()


def _file(tmp_path, data, name="entries.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_it_loads_both_kinds_from_one_file_into_a_practice(tmp_path, practice):
    path = _file(
        tmp_path,
        {
            "denial_codes": [
                {"code": "CO-16", "description": "Our 16."},
                {"code": "900", "description": "Local code."},
            ],
            "payer_policies": [
                {"payer": "Aetna", "title": "Appeals", "text": "60 days.", "effective_date": "2026-01-01"}
            ],
        },
    )

    out = _run(path, "--practice", practice.pk)

    assert "2 denial codes saved" in out and "1 payer policies saved" in out
    assert DenialCode.objects.get(practice=practice, code="16").description == "Our 16."
    assert PayerPolicy.objects.filter(practice=practice, payer="Aetna").count() == 1
    _run(path, "--practice", practice.name)  # a second run updates rather than duplicates
    assert PayerPolicy.objects.filter(practice=practice).count() == 1


def test_it_loads_a_list_of_one_kind_into_every_practice(tmp_path, practice, other_practice):
    path = _file(tmp_path, [{"payer": "Cigna", "text": "Fax appeals."}])

    _run(path, "--all-practices", "--kind", "payer-policies")

    assert set(PayerPolicy.objects.values_list("practice_id", flat=True)) == {practice.pk, other_practice.pk}


def test_it_saves_nothing_when_an_entry_is_bad(tmp_path, practice):
    path = _file(
        tmp_path,
        {"denial_codes": [{"code": "901", "description": "Fine."}], "payer_policies": [{"payer": "", "text": "x"}]},
    )

    with pytest.raises(
        CommandError, match=r"Nothing was saved\. payer policies: entry 0: payer: This field is required"
    ):
        _run(path, "--practice", practice.pk)
    assert not DenialCode.objects.filter(code="901").exists()
    assert not PayerPolicy.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "Nothing to do"),
        (["{file}"], "--practice ID or --all-practices"),
        (["{file}", "--practice", "999999"], "No practice with id or name '999999'"),
        (["{missing}", "--practice", "{practice}"], "No file at"),
        (["{file}", "--practice", "{practice}"], "--kind denial-codes or payer-policies"),
        (["{bad_json}", "--practice", "{practice}"], "is not valid JSON"),
        (["{bad_keys}", "--practice", "{practice}"], "Unknown keys in the file: codes"),
    ],
)
def test_it_explains_what_is_wrong(tmp_path, practice, args, message):
    names = {
        "file": _file(tmp_path, [{"code": "16", "description": "x"}]),
        "missing": tmp_path / "missing.json",
        "bad_json": tmp_path / "bad.json",
        "bad_keys": _file(tmp_path, {"codes": []}, "keys.json"),
        "practice": practice.pk,
    }
    names["bad_json"].write_text("[{")

    with pytest.raises(CommandError, match=message):
        _run(*[arg.format(**names) for arg in args])


def test_it_gives_existing_practices_the_starter_set_without_touching_their_wording(practice, other_practice):
    DenialCode.objects.filter(practice=practice, code__in=["1", "2"]).delete()
    DenialCode.objects.filter(practice=practice, code="16").update(description="Our own words.")

    out = _run("--starter", "--practice", practice.pk)

    assert "2 starter denial codes added" in out
    assert DenialCode.objects.filter(practice=practice).count() == len(services.starter_entries())
    assert DenialCode.objects.get(practice=practice, code="16").description == "Our own words."
    assert "0 starter denial codes added" in _run("--starter")


def test_it_rebuilds_the_index(practice, knowledge_index):
    knowledge.collection(knowledge.DENIAL_CODES).delete(where={"practice_id": practice.pk})

    out = _run("--reindex", "--practice", practice.pk)

    starter = len(services.starter_entries())
    assert f"Index rebuilt for {practice.name}: {starter} denial codes, 0 payer policies" in out
    assert knowledge.collection(knowledge.DENIAL_CODES).count() == starter


def test_it_says_when_the_index_cannot_be_rebuilt(practice, knowledge_index, settings):
    settings.CHROMA_URL = "http://127.0.0.1:9"
    knowledge.reset_clients()

    with pytest.raises(CommandError, match="Could not rebuild the search index"):
        _run("--reindex")


def test_it_asks_for_the_id_when_two_practices_share_a_name(tmp_path, practice):
    PracticeFactory(name=practice.name)
    path = _file(tmp_path, [{"code": "16", "description": "x"}])

    with pytest.raises(CommandError, match="Several practices are named"):
        _run(path, "--kind", "denial-codes", "--practice", practice.name)


def test_it_saves_nothing_when_the_knowledge_base_changes_at_the_same_time(
    tmp_path, practice, other_practice, monkeypatch
):
    path = _file(tmp_path, [{"code": "16", "description": "Changed."}])
    save_entries = services.save_entries

    def clash_on_the_second_practice(practice_id, kind, entries):
        if practice_id == other_practice.pk:
            raise services.EntriesInvalid([], "The knowledge base changed at the same time; send the entries again.")
        return save_entries(practice_id, kind, entries)

    monkeypatch.setattr(services, "save_entries", clash_on_the_second_practice)

    with pytest.raises(CommandError, match="Nothing was saved. The knowledge base changed"):
        _run(path, "--kind", "denial-codes", "--all-practices")
    assert DenialCode.objects.get(practice=practice, code="16").description != "Changed."
