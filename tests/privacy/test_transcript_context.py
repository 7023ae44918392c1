"""The transcript ingest gives the redactor the bot's previous line: an answer to "date of birth?" is one."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from tests.api.test_transcripts import _conversation, _post_events


def _stored(pg, conversation_id: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in pg.execute(
        "SELECT role, text FROM transcript_messages WHERE conversation_id = %s ORDER BY sent_at, id",
        (conversation_id,)).fetchall()]


def test_answer_in_the_same_batch_as_the_question(client: TestClient, alice, pg) -> None:
    conversation_id = _conversation(pg, "alice")
    now = time.time()
    _post_events(client, [
        {"event": "bot", "sender_id": conversation_id, "timestamp": now, "text": "What is your date of birth?"},
        {"event": "user", "sender_id": conversation_id, "timestamp": now + 1, "text": "14 March 1983",
         "message_id": "a1"},
    ])
    assert _stored(pg, conversation_id)[-1] == ("user", "<DATE_OF_BIRTH>")


def test_answer_in_a_later_batch_and_a_date_that_answers_something_else(client: TestClient, alice, pg) -> None:
    conversation_id = _conversation(pg, "alice")
    now = time.time()
    _post_events(client, [{"event": "bot", "sender_id": conversation_id, "timestamp": now,
                           "text": "To check it is you: your date of birth, please?"}])
    _post_events(client, [{"event": "user", "sender_id": conversation_id, "timestamp": now + 1,
                           "text": "it's 2 May 1979", "message_id": "b1"}])
    _post_events(client, [
        {"event": "bot", "sender_id": conversation_id, "timestamp": now + 2, "text": "Which payment do you mean?"},
        {"event": "user", "sender_id": conversation_id, "timestamp": now + 3, "text": "the one on 12 March",
         "message_id": "b2"},
    ])
    lines = _stored(pg, conversation_id)
    assert ("user", "it's <DATE_OF_BIRTH>") in lines
    assert lines[-1] == ("user", "the one on 12 March")  # a transaction date stays readable
