"""News the bank tells first (api/notifications): a change the customer should hear of writes its outbox
event in the change's own transaction; the consumer tells the customer once, in their last conversation,
however often the event is delivered. Against the real PostgreSQL and Redis."""

from __future__ import annotations

import uuid

import psycopg
import pytest
import redis
from fastapi.testclient import TestClient

from api.config import get_settings
from api.notifications import consumer
from api.sagas import relay
from data.seed import stable_id
from tests.conftest import TEST_REDIS_URL


def _outbox(pg, topic: str, subject_id: str) -> list[tuple]:
    return pg.execute("SELECT customer_id, payload FROM outbox WHERE topic = %s AND subject_id = %s",
                      (topic, subject_id)).fetchall()


def test_freezing_a_card_writes_its_news_with_the_change_and_only_then(client: TestClient, bob, pg) -> None:
    card = client.get("/v1/cards", headers=bob).json()[0]
    assert client.post(f"/v1/cards/{card['id']}/unfreeze", headers=bob).status_code == 200
    before = len(_outbox(pg, "card.frozen", card["id"]))
    assert client.post(f"/v1/cards/{card['id']}/freeze", headers=bob).status_code == 200
    rows = _outbox(pg, "card.frozen", card["id"])
    assert len(rows) == before + 1
    customer_id, payload = rows[-1]
    assert customer_id == stable_id("user", "bob") and payload["last4"] == card["last4"]
    # Freezing a frozen card changes nothing, so it is no news.
    assert client.post(f"/v1/cards/{card['id']}/freeze", headers=bob).status_code == 200
    assert len(_outbox(pg, "card.frozen", card["id"])) == before + 1
    assert client.post(f"/v1/cards/{card['id']}/unfreeze", headers=bob).status_code == 200
    assert _outbox(pg, "card.unfrozen", card["id"])


@pytest.fixture()
def stream(client: TestClient) -> redis.Redis:
    """The notifications stream on the test Redis, empty, with its consumer group."""
    connection = redis.Redis.from_url(TEST_REDIS_URL)
    connection.delete(relay.STREAM)
    consumer.ensure_group(connection)
    return connection


def test_the_customer_is_told_once_in_their_last_conversation(client: TestClient, alice, pg,
                                                              stream: redis.Redis) -> None:
    older, latest = uuid.uuid4(), uuid.uuid4()
    # Other tests' conversations of alice's exist too: `latest` is made the most recent of all of them.
    for conversation_id, offset in ((older, "-2 hours"), (latest, "1 second")):
        pg.execute("INSERT INTO conversations (id, customer_id, channel, last_message_at) "
                   "SELECT %(id)s, %(alice)s, 'web', coalesce(max(last_message_at), now()) + %(offset)s::interval "
                   "FROM conversations WHERE customer_id = %(alice)s",
                   {"id": conversation_id, "alice": stable_id("user", "alice"), "offset": offset})
    card = client.get("/v1/cards", headers=alice).json()[0]
    assert client.post(f"/v1/cards/{card['id']}/freeze", headers=alice).status_code == 200
    assert client.post(f"/v1/cards/{card['id']}/unfreeze", headers=alice).status_code == 200
    with psycopg.connect(get_settings().database_url, autocommit=True) as conn:
        while relay.relay_outbox(conn, stream):  # what the saga workers do
            pass
    entries = stream.xreadgroup(consumer.GROUP, "test", {relay.STREAM: ">"}, count=1000)[0][1]
    assert consumer.handle_entries(stream, entries) >= 2
    # Delivered again (a consumer died before acknowledging): told once all the same.
    assert consumer.handle_entries(stream, entries) == 0
    lines = client.get(f"/v1/conversations/{latest}/transcript", headers=alice).json()["messages"]
    notices = [m["text"] for m in lines if m["role"] == "notice"]
    assert f"Your card ending {card['last4']} is frozen: no payment or withdrawal will go through until it is " \
           "unfrozen." in notices
    assert f"Your card ending {card['last4']} is active again." in notices
    assert not [m for m in client.get(f"/v1/conversations/{older}/transcript", headers=alice).json()["messages"]
                if m["role"] == "notice"]
    assert stream.xpending(relay.STREAM, consumer.GROUP)["pending"] == 0
