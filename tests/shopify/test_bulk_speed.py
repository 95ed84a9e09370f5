"""What keeps a bulk operation short: an export of only the product lists a reader needs, and
waits that follow a mutation's pace instead of overshooting its end."""

from collections.abc import Callable

import pytest

from cowans.shopify.bulk import (
    COLLECTIONS,
    MEDIA,
    METAFIELDS,
    BulkOperationState,
    PollPolicy,
    _Progress,
    iterate_bulk_products,
    run_bulk_mutation,
)
from cowans.shopify.documents import load
from shopify_emulator.app import EmulatorOptions
from shopify_emulator.seed import seed_products
from tests.emulator.conftest import RunningEmulator
from tests.shopify.test_bulk import FAST, QUICK_POLL, _product_set
from tests.shopify.test_products import client_for, expected_catalog


@pytest.mark.anyio
async def test_an_export_without_lists_reads_products_and_variants_in_fewer_lines(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    emulator = make_emulator(options=FAST)
    seed_products(emulator.shop(), 40, seed=5)
    expected = expected_catalog(emulator.shop())
    async with client_for(emulator) as client:
        whole = [p async for p in iterate_bulk_products(client, poll=QUICK_POLL)]
        slim = [p async for p in iterate_bulk_products(client, poll=QUICK_POLL, parts=())]

    assert {p.handle: p for p in whole} == expected
    assert [p.handle for p in slim] == [p.handle for p in whole]
    for full, narrow in zip(whole, slim, strict=True):
        assert narrow.variants == full.variants
        assert (narrow.title, narrow.description_html) == (full.title, full.description_html)
        assert (narrow.metafields, narrow.images, narrow.collections) == ((), (), ())
    first, second = sorted(emulator.shop().data.bulk_operations.values(), key=lambda o: o.id)
    assert second.object_count < first.object_count
    assert second.object_count == 40 + sum(len(p.variants) for p in whole)


def test_unknown_parts_are_refused() -> None:
    from cowans.shopify.bulk import bulk_products_query

    with pytest.raises(ValueError, match="unknown product parts: images"):
        bulk_products_query([], parts=("images",))
    whole = bulk_products_query(["gid://shopify/Location/1"])
    assert all(part in whole for part in (METAFIELDS, MEDIA, COLLECTIONS))


def _state(objects: int) -> BulkOperationState:
    return BulkOperationState("gid://shopify/BulkOperation/1", "RUNNING", None, objects, 0, None,
                              None, None)  # fmt: skip


def test_the_wait_ends_just_after_the_predicted_end() -> None:
    progress = _Progress(expected=1_000, started=0.0)
    # 400 of 1,000 in 2 s: 3 s left, looked at a little after that
    assert progress.wait(10.0, _state(400), now=2.0) == pytest.approx(3.0 * _Progress.SLACK)
    assert progress.wait(1.0, _state(400), now=2.0) == 1.0  # the policy's interval if sooner
    assert progress.wait(10.0, _state(1_000), now=2.0) == _Progress.SOONEST  # writing results
    assert progress.wait(10.0, _state(1_200), now=30.0) == 3.0  # an estimate overrun: a tenth
    assert progress.wait(10.0, _state(0), now=2.0) == 10.0  # no pace yet
    assert _Progress(None, 0.0).wait(10.0, _state(400), now=2.0) == 10.0  # size unknown


@pytest.mark.anyio
async def test_a_bulk_mutation_is_seen_done_soon_after_it_ends(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    """300 lines at 60 a second take about 5 s: growing waits of 1, 1.5, 2.25, 3.4 s look at
    1, 2.5, 4.75 and 8.1 s; following the pace, a look comes near the end instead."""
    emulator = make_emulator(options=EmulatorOptions(bulk_rows_per_second=60))
    waits: list[float] = []

    async def finished(_operation_id: str, seconds: float) -> None:
        import asyncio

        waits.append(seconds)
        await asyncio.sleep(seconds)

    lines = [_product_set(f"paced-{n}") for n in range(300)]
    policy = PollPolicy(first_seconds=1.0, max_seconds=30.0, timeout_seconds=60)
    async with client_for(emulator) as client:
        results = await run_bulk_mutation(
            client, load("product_set"), lines, poll=policy, finished=finished
        )

    assert all(result.succeeded for result in results)
    assert len(results) == 300
    assert _shortened(waits, policy), waits


@pytest.mark.anyio
async def test_a_push_looks_at_its_bulk_mutations_within_a_second(
    make_emulator: Callable[..., RunningEmulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A day's small bulk mutations finish in well under a second on Shopify's side: the
    push's first look comes after a quarter of one, not after the default second."""
    import asyncio
    import threading

    from cowans.sync.runner import polling_bulk_runner

    emulator = make_emulator(options=FAST)
    sleeps: list[float] = []
    real_sleep = asyncio.sleep

    ours = threading.get_ident()  # the emulator serves from a thread of its own

    async def recorded(seconds: float, *args: object) -> None:
        if threading.get_ident() == ours:
            sleeps.append(seconds)
        await real_sleep(seconds, *args)

    monkeypatch.setattr(asyncio, "sleep", recorded)
    async with client_for(emulator) as client:
        results = await polling_bulk_runner()(client, load("product_set"), [_product_set("one")])
    assert [result.succeeded for result in results] == [True]
    assert sleeps[0] == 0.25


@pytest.mark.anyio
async def test_an_export_of_a_reckoned_size_is_seen_done_soon_after_it_ends(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    """The push reckons its export's lines from the store it knows: the waits follow."""
    import asyncio

    emulator = make_emulator(options=EmulatorOptions(bulk_rows_per_second=60))
    seed_products(emulator.shop(), 60, seed=6)
    lines = 60 + sum(len(p.variant_numbers) for p in emulator.shop().data.products.values())
    waits: list[float] = []

    async def finished(_operation_id: str, seconds: float) -> None:
        waits.append(seconds)
        await asyncio.sleep(seconds)

    policy = PollPolicy(first_seconds=1.0, max_seconds=30.0, timeout_seconds=60)
    async with client_for(emulator) as client:
        exported = iterate_bulk_products(
            client, parts=(), poll=policy, finished=finished, expected_objects=lines
        )
        products = [product async for product in exported]

    assert len(products) == 60
    assert _shortened(waits, policy), waits


def _shortened(waits: list[float], policy: PollPolicy) -> bool:
    """Some wait came before the growing interval's: once the operation's pace shows, the look
    is timed on its predicted end (the first look, before any progress, never is)."""
    intervals = policy.intervals()
    return any(wait < next(intervals) for wait in waits)
