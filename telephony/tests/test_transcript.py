"""Splitting a call's transcript into speaker turns for the call page."""

from __future__ import annotations

from telephony.transcript import quotes, transcript_lines

TRANSFER = """User: Thank you for calling Cigna. Please say or enter your NPI.
AI: 1-2-3-4-5-6-7-8-9-3.
User: Cigna, this is Mallory. Who am I speaking with?
AI: Hi Mallory, I'm calling about a claim.
User: Let me transfer you to claims.
User: Provider claims, this is Hector. How can I help?
AI: Hi Hector.
"""


def _turns(transcript: str, payer: str = "Cigna") -> list[tuple[str, str]]:
    return [(line.kind, line.label) for line in transcript_lines([], transcript, payer)]


def test_it_tells_the_phone_menu_from_the_people_who_answer():
    assert _turns(TRANSFER) == [
        ("menu", "Phone menu"),
        ("agent", "Agent"),
        ("representative", "Mallory"),
        ("agent", "Agent"),
        ("representative", "Mallory"),
        ("representative", "Hector"),
        ("agent", "Agent"),
    ]


def test_it_reads_names_however_they_are_introduced():
    transcript = "User: Thanks for calling UnitedHealthcare. My name is Stacy-Ann. Who do I have?\nAI: Hi.\n"

    assert _turns(transcript, "UnitedHealthcare")[0] == ("representative", "Stacy-Ann")


def test_it_does_not_take_the_payer_or_a_recording_for_a_person():
    transcript = "User: Hello, this is Aetna provider services. This is a recorded line.\nAI: Claims.\n"

    assert _turns(transcript, "Aetna")[0] == ("payer", "Payer")


def test_it_keeps_a_line_that_runs_over_onto_the_next():
    lines = transcript_lines([], "User: Please hold\nfor the next representative.\n", "Aetna")

    assert [line.text for line in lines] == ["Please hold for the next representative."]


def test_it_prefers_the_messages_with_their_times_and_key_presses():
    messages = [
        {"role": "system", "message": "Prompt", "secondsFromStart": 0},
        {"role": "user", "message": "For claims press 2.", "secondsFromStart": 1.0, "duration": 2000},
        {
            "role": "tool_calls",
            "secondsFromStart": 3.5,
            "toolCalls": [{"function": {"name": "dtmf", "arguments": '{"keys": "w2"}'}}],
        },
        {"role": "user", "message": "This is Renee.", "secondsFromStart": 300.0, "duration": 1000},
    ]

    lines = transcript_lines(messages, "ignored", "Aetna")

    assert [(line.kind, line.text, line.seconds) for line in lines] == [
        ("menu", "For claims press 2.", 1.0),
        ("keys", "Pressed 2", 3.5),
        ("hold", "On hold about 5 minutes", 3.0),
        ("representative", "This is Renee.", 300.0),
    ]


def test_it_shows_what_it_can_of_messages_of_the_wrong_shape():
    hostile_arguments = "[" * 100_000
    messages = [
        {"role": "user", "message": "For claims press 2.", "secondsFromStart": 1.0, "duration": "long"},
        {"role": "tool_calls", "secondsFromStart": 2, "toolCalls": ["dtmf", None, {"function": ["x"]}]},
        {"role": "tool_calls", "toolCalls": [{"function": {"name": "dtmf", "arguments": hostile_arguments}}]},
        {"role": "tool_calls", "toolCalls": [{"function": {"name": "dtmf", "arguments": "[1, 2]"}}]},
        {"role": "tool_calls", "toolCalls": [{"function": {"name": "endCall", "arguments": ["x"]}}]},
    ]

    lines = transcript_lines(messages, "", "Aetna")

    assert [(line.kind, line.text) for line in lines] == [
        ("menu", "For claims press 2."),
        ("keys", "Pressed keys"),
        ("keys", "Pressed keys"),
        ("action", "Ended the call"),
    ]


def test_each_turn_keeps_the_transcript_lines_evidence_cites():
    lines = transcript_lines([], "User: Please hold\nfor the next representative.\n\nAI: Thanks.\n", "Aetna")

    assert [(line.text, line.numbers) for line in lines] == [
        ("Please hold for the next representative.", (1, 2)),
        ("Thanks.", (4,)),
    ]


def test_turns_from_the_messages_are_numbered_as_the_transcript_lines_that_say_them():
    transcript = "User: For claims press 2.\nAI: 2\nUser: This is Renee.\nUser: It was paid.\n"
    messages = [
        {"role": "user", "message": "For claims press 2.", "secondsFromStart": 1.0},
        {"role": "tool_calls", "toolCalls": [{"function": {"name": "dtmf", "arguments": '{"keys": "2"}'}}]},
        {"role": "bot", "message": "Sorry, one moment.", "secondsFromStart": 2.0},  # not in the transcript
        {"role": "bot", "message": "2", "secondsFromStart": 3.0},
        {"role": "user", "message": "This  is Renee!", "secondsFromStart": 4.0},
        {"role": "user", "message": "It was paid.", "secondsFromStart": 5.0},
    ]

    lines = transcript_lines(messages, transcript, "Aetna")

    assert [(line.text, line.number) for line in lines] == [
        ("For claims press 2.", 1),
        ("Pressed 2", None),
        ("Sorry, one moment.", None),
        ("2", 2),
        ("This  is Renee!", 3),
        ("It was paid.", 4),
    ]


def test_quotes_name_the_speaker_and_the_line_shown():
    transcript = "User: For claims press 2.\nAI: Claims.\nUser: This is Renee.\nUser: It was paid.\n"
    lines = transcript_lines([], transcript, "Aetna")

    assert [(q.number, q.speaker, q.text, q.anchor) for q in quotes(lines, transcript, [4, 1, 2, 9, 0, "3"])] == [
        (4, "Renee (payer)", "It was paid.", 4),
        (1, "Phone menu", "For claims press 2.", 1),
        (2, "BillingPulse agent", "Claims.", 2),
    ]


def test_the_representative_the_outcome_names_is_found_where_they_say_their_name():
    transcript = "User: Claims department.\nUser: Dana speaking, go ahead.\nAI: Hi Dana.\nUser: Danaher plan.\n"

    assert _turns(transcript, "Aetna") == [
        ("payer", "Payer"),
        ("payer", "Payer"),
        ("agent", "Agent"),
        ("payer", "Payer"),
    ]
    assert [(line.kind, line.label) for line in transcript_lines([], transcript, "Aetna", rep_name="Dana")] == [
        ("menu", "Phone menu"),
        ("representative", "Dana"),
        ("agent", "Agent"),
        ("representative", "Dana"),
    ]
