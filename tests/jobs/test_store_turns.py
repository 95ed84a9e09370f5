"""Pulls and pushes of one store take turns; a turn whose job is no longer running is free."""

from sqlalchemy import Engine, update

from cowans.db.models import JobState, Store, SyncJob
from cowans.db.session import session_scope
from cowans.jobs import store as jobs_store
from cowans.jobs.store_turns import give_turn_back, take_turn


def running_job(engine: Engine, store_id: int) -> int:
    with session_scope(engine) as session:
        job = jobs_store.create_job(
            session, "sync.pull", params={}, created_by=None, store_id=store_id
        )
        job.state = JobState.RUNNING
        return job.id


def set_state(engine: Engine, job_id: int, state: JobState) -> None:
    with session_scope(engine) as session:
        session.execute(update(SyncJob).where(SyncJob.id == job_id).values(state=state))


def test_one_job_at_a_time_per_store(engine: Engine) -> None:
    with session_scope(engine) as session:
        stores = [
            Store(name=f"S{n}", shop_domain=f"s{n}.myshopify.com", access_token="x") for n in (1, 2)
        ]
        session.add_all(stores)
        session.flush()
        first_store, other_store = (store.id for store in stores)
    pull, push = running_job(engine, first_store), running_job(engine, first_store)
    elsewhere = running_job(engine, other_store)
    assert take_turn(engine, first_store, pull)
    assert take_turn(engine, first_store, pull)  # a job picked up again keeps its turn
    assert not take_turn(engine, first_store, push)
    assert take_turn(engine, other_store, elsewhere)  # stores do not wait for each other
    give_turn_back(engine, first_store, pull)
    assert take_turn(engine, first_store, push)


def test_a_turn_held_by_a_job_that_is_not_running_is_free(engine: Engine) -> None:
    with session_scope(engine) as session:
        store = Store(name="S", shop_domain="s.myshopify.com", access_token="x")
        session.add(store)
        session.flush()
        store_id = store.id
    crashed, next_one = running_job(engine, store_id), running_job(engine, store_id)
    assert take_turn(engine, store_id, crashed)
    assert not take_turn(engine, store_id, next_one)
    set_state(engine, crashed, JobState.QUEUED)  # its worker died; it waits to run again
    assert take_turn(engine, store_id, next_one)
