"""The store's lifecycle contract (pipeline/store/publications.py, section "lifecycle"),
run on every backend by the `db_url` fixture: SQLite and PostgreSQL.

What each method documents under concurrency is tested here with real threads over
separate connection pools (as separate processes would have), not with mocks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import TypeVar

import pytest

from pipeline.errors import IllegalTransition, PublicationNotFound
from pipeline.publishing.states import STEPS, TRANSITIONS, Change, State, may_move
from pipeline.store import PublicationStore
from pipeline.store.lifecycle import Tx
from tests.store_backends import START

LEASE = timedelta(minutes=10)
T = TypeVar("T")


@pytest.fixture
def store(db_url: str) -> Iterator[PublicationStore]:
    opened = PublicationStore(db_url, secrets=["s3cret-token"])
    yield opened
    opened.close()


def add_publications(
    store: PublicationStore, count: int, state: State = State.SCHEDULED
) -> list[int]:
    """One essay with `count` publications, due one second apart from START."""
    with store.transaction() as tx:
        essay = tx.add_essay(
            slug=f"essay-{count}-{state}",
            title="An essay",
            content_hash=f"{count}-{state}".ljust(64, "0"),
            source_name="essay.md",
            source="inbox",
            essay_json="{}",
        )
        return [
            tx.add_publication(
                essay_id=essay.id,
                target=f"t{index}",
                platform="outbox",
                state=state.value,
                due_at=START + timedelta(seconds=index),
                idempotency_key=f"key-{index}",
                attempts=0,
                needs_update=0,
            ).id
            for index in range(count)
        ]


def race(store: PublicationStore, callers: int, act: Callable[[PublicationStore], T]) -> list[T]:
    """Run `act` in `callers` threads, each with its own store (own pool), released at once."""
    stores = [PublicationStore(store.url) for _ in range(callers)]
    barrier = threading.Barrier(callers)
    results: list[T] = []
    lock = threading.Lock()

    def run(own: PublicationStore) -> None:
        barrier.wait()
        result = act(own)
        with lock:
            results.append(result)

    threads = [threading.Thread(target=run, args=(own,)) for own in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for own in stores:
        own.close()
    assert len(results) == callers  # no caller died
    return results


def events_of(store: PublicationStore, pub_id: int) -> list[str]:
    return [e.kind for e in store.events(limit=1000) if e.publication_id == pub_id]


def test_acquire_never_hands_one_row_to_two_callers(store: PublicationStore) -> None:
    ids = add_publications(store, 24)
    now = START + timedelta(minutes=1)
    batches = race(store, 4, lambda own: own.acquire(10, f"w{id(own)}", now, LEASE))
    taken = [pub_id for batch in batches for pub_id in batch]
    assert len(taken) == len(set(taken))  # no row twice
    # whatever was left is still scheduled, and a later caller gets exactly the rest
    rest = store.acquire(100, "late", now, LEASE)
    assert sorted(taken + rest) == ids
    rows = store.publications()
    assert {r.state for r in rows} == {State.PUBLISHING.value}
    assert {r.attempts for r in rows} == {1}  # each row was taken exactly once


def test_claim_has_one_winner_and_refuses_what_is_not_due(store: PublicationStore) -> None:
    first, later = add_publications(store, 2)
    assert not store.claim(later, "w", START, LEASE)  # due one second after START
    wins = race(store, 6, lambda own: own.claim(first, f"w{id(own)}", START, LEASE))
    assert wins.count(True) == 1
    row = store.publication(first)
    assert row is not None and row.state == "publishing" and row.attempts == 1
    assert row.lease_until == START + LEASE
    assert not store.claim(first, "w", START, LEASE)  # taken: not scheduled any more


def test_claim_and_acquire_racing_share_one_row_once(store: PublicationStore) -> None:
    (pub_id,) = add_publications(store, 1)

    def take(own: PublicationStore) -> int:
        if id(own) % 2:
            return len(own.acquire(5, "batch", START, LEASE))
        return int(own.claim(pub_id, "single", START, LEASE))

    assert sum(race(store, 6, take)) == 1


def test_due_and_next_due_see_only_scheduled_rows_oldest_first(store: PublicationStore) -> None:
    ids = add_publications(store, 3)
    add_publications(store, 2, State.PLANNED)
    assert store.due(START - timedelta(seconds=1)) == []
    assert store.due(START + timedelta(seconds=1)) == ids[:2]
    assert store.due(START + timedelta(hours=1), limit=2) == ids[:2]
    assert store.next_due() == START
    assert store.claim(ids[0], "w", START, LEASE)
    assert store.next_due() == START + timedelta(seconds=1)


def test_reap_returns_only_stale_leases(store: PublicationStore) -> None:
    old, fresh, waiting = add_publications(store, 3)
    assert store.claim(old, "dead", START, timedelta(seconds=30))
    assert store.claim(fresh, "alive", START + timedelta(seconds=1), LEASE)
    reaped = store.reap(START + timedelta(minutes=1))
    assert [r.id for r in reaped] == [old]
    row = store.publication(old)
    assert row is not None
    assert (row.state, row.claimed_by) == ("scheduled", None)
    assert row.due_at == START + timedelta(minutes=1)
    assert events_of(store, old)[-1] == "publication.recovered"
    assert store.publication(fresh).state == "publishing"  # type: ignore[union-attr]
    assert store.publication(waiting).state == "scheduled"  # type: ignore[union-attr]
    # when the caller knows no publisher runs (a start), every lease goes
    assert [r.id for r in store.reap(START, every_lease=True)] == [fresh]


def test_release_applies_exactly_the_change_in_one_transaction(store: PublicationStore) -> None:
    pub_id, other = add_publications(store, 2)
    assert store.claim(pub_id, "w", START, LEASE)
    seen: list[int] = []

    def then(tx: Tx) -> list[int]:
        row = tx.publication(pub_id)
        assert row is not None
        seen.append(row.attempts)
        return [other]

    due = START + timedelta(minutes=5)
    change = Change(
        State.SCHEDULED,
        "publication.deferred",
        {"due_at": due, "last_error": "token s3cret-token refused"},
        {"until": due},
        gives_back_attempt=True,
    )
    assert store.release(pub_id, change, START, then) == [other]
    row = store.publication(pub_id)
    assert row is not None
    assert (row.state, row.due_at, row.claimed_by, row.lease_until) == (
        "scheduled",
        due,
        None,
        None,
    )
    assert row.attempts == 0 and seen == [0]  # `then` saw this transaction's write
    assert row.last_error == "token [redacted] refused"
    assert events_of(store, pub_id)[-1] == "publication.deferred"
    untouched = store.publication(other)
    assert untouched is not None and untouched.state == "scheduled"


def test_release_refuses_a_move_that_is_not_out_of_publishing(store: PublicationStore) -> None:
    (pub_id,) = add_publications(store, 1)
    assert store.claim(pub_id, "w", START, LEASE)
    before = events_of(store, pub_id)
    for state in (State.PLANNED, State.PUBLISHING):
        with pytest.raises(IllegalTransition):
            store.release(pub_id, Change(state, "publication.nonsense"), START)
    row = store.publication(pub_id)
    assert row is not None and row.state == "publishing" and row.claimed_by == "w"
    assert events_of(store, pub_id) == before
    with pytest.raises(PublicationNotFound, match="no publication 999"):
        store.release(999, Change(State.FAILED, "publication.failed"), START)


def test_give_back_only_by_the_claim_holder(store: PublicationStore) -> None:
    (pub_id,) = add_publications(store, 1)
    assert store.claim(pub_id, "holder", START, LEASE)
    assert not store.give_back(pub_id, "someone-else", START, "stopping")
    assert store.publication(pub_id).state == "publishing"  # type: ignore[union-attr]
    assert store.give_back(pub_id, "holder", START, "stopping")
    assert store.publication(pub_id).state == "scheduled"  # type: ignore[union-attr]
    assert not store.give_back(pub_id, "holder", START, "stopping")  # nothing held now


def test_change_state_is_a_compare_and_set(store: PublicationStore) -> None:
    (pub_id,) = add_publications(store, 1)
    edits: list[int] = []
    values = {"state": State.CANCELLED.value}
    allowed = {State.SCHEDULED}

    def edit(tx: Tx, row: object) -> None:
        edits.append(pub_id)

    def cancel(own: PublicationStore) -> bool:
        return own.change_state(pub_id, allowed, values, START, edit=edit).changed

    assert race(store, 4, cancel).count(True) == 1
    assert edits == [pub_id]  # the edit ran once, with the change that won
    refused = store.change_state(pub_id, allowed, values, START, edit=edit)
    assert not refused.changed and refused.row.state == "cancelled" and edits == [pub_id]
    with pytest.raises(PublicationNotFound):
        store.change_state(999, allowed, values, START)


def test_change_state_waits_for_an_unpublished_dependency(store: PublicationStore) -> None:
    blog, toot = add_publications(store, 2)
    with store.transaction() as tx:
        row = tx.publication(toot)
        assert row is not None
        row.depends_on = blog
    values = {"state": State.SCHEDULED.value, "due_at": START}
    step = store.change_state(toot, {State.SCHEDULED}, values, START, needs_dependency=True)
    assert not step.changed and step.dependency is not None and step.dependency.id == blog


def test_sent_recently_counts_each_begun_post_since(store: PublicationStore) -> None:
    pub_id, _ = add_publications(store, 2)
    store.save_progress(pub_id, {"begun": [0, 1], "remotes": {}}, START, LEASE)
    assert len(store.sent_recently("t0", START - timedelta(seconds=1))) == 2
    assert store.sent_recently("t0", START + timedelta(seconds=1)) == []
    assert store.sent_recently("t1", START - timedelta(seconds=1)) == []


def test_a_transaction_that_raises_leaves_nothing(store: PublicationStore) -> None:
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.add_event("test.event")
        raise RuntimeError("rolled back")
    assert [e for e in store.events() if e.kind == "test.event"] == []


def test_every_operator_step_moves_along_the_transition_table() -> None:
    assert set(TRANSITIONS) == set(State)
    for step, (sources, targets) in STEPS.items():
        for source in sources:
            assert any(may_move(source, target) for target in targets), (step, source)
    # a claim is the only way into publishing, and an attempt always ends in another state
    assert [s for s in State if may_move(s, State.PUBLISHING)] == [State.SCHEDULED]
    assert not may_move(State.PUBLISHING, State.PUBLISHING)
