"""A tiny stand-in for the sync engine: remembers what was pushed, plans, runs, and reads back
the emulator's state for comparison."""

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from cowans.catalog.snapshot import MetafieldSnapshot, ProductSnapshot, VariantSnapshot
from cowans.shopify.client import RetryPolicy, ShopifyClient, StoreEndpoint
from cowans.shopify.throttle import CostThrottle
from cowans.sync.changes import Operation, ProductChange, RemoteIds
from cowans.sync.planner import Plan, StoreConditions, Strategy, WorkKind, plan_changes
from cowans.sync.runner import BulkMutationRunner, PlanRunner, RunReport
from tests.emulator.conftest import RunningEmulator

LOCATIONS = ("Main Warehouse", "Store Front")


def product(
    handle: str, *skus: str, price: str = "9.99", stock: int = 5, **fields: Any
) -> ProductSnapshot:
    variants = tuple(
        VariantSnapshot(
            sku=sku,
            price=Decimal(price),
            barcode=f"0{index:011}",
            option_values=(f"Size {index}",) if len(skus) > 1 else ("Default Title",),
            inventory={LOCATIONS[0]: stock, LOCATIONS[1]: stock + 1},
        )
        for index, sku in enumerate(skus or (handle.upper(),))
    )
    defaults: dict[str, Any] = {
        "title": handle.replace("-", " ").title(),
        "vendor": "3M",
        "product_type": "Paper",
        "tags": ("office",),
        "option_names": ("Size",) if len(variants) > 1 else ("Title",),
        "metafields": (MetafieldSnapshot("custom", "color", "single_line_text_field", "blue"),),
    }
    return ProductSnapshot(handle=handle, variants=variants, **{**defaults, **fields})


def with_variant(snapshot: ProductSnapshot, sku: str, **changes: Any) -> ProductSnapshot:
    variants = tuple(replace(v, **changes) if v.sku == sku else v for v in snapshot.variants)
    return replace(snapshot, variants=variants)


@dataclass
class PushHarness:
    emulator: RunningEmulator
    bulk: BulkMutationRunner | None = None
    timeout_seconds: float = 10.0
    base: dict[str, ProductSnapshot] = field(default_factory=dict)
    remote: dict[str, RemoteIds] = field(default_factory=dict)
    serial: int = 0

    def __post_init__(self) -> None:
        shop = self.emulator.shop()
        endpoint = StoreEndpoint(
            f"{self.emulator.base_url}/demo/admin/api/2026-10/graphql.json", shop.access_token
        )
        self.client = ShopifyClient(
            endpoint,
            timeout_seconds=self.timeout_seconds,
            throttle=CostThrottle(),
            retry=RetryPolicy(max_attempts=10, base_seconds=0.01, max_seconds=0.1),
        )
        self.location_ids = {loc.name: loc.id for loc in shop.data.locations.values()}

    def changes(
        self, desired: list[ProductSnapshot], deletes: tuple[str, ...] = ()
    ) -> list[ProductChange]:
        changes = []
        for snapshot in desired:
            self.serial += 1
            known = snapshot.handle in self.remote
            if known and self.base[snapshot.handle] == snapshot:
                continue
            changes.append(
                ProductChange(
                    f"c{self.serial}",
                    Operation.UPDATE if known else Operation.CREATE,
                    snapshot.handle,
                    desired=snapshot,
                    base=self.base.get(snapshot.handle),
                    remote=self.remote.get(snapshot.handle),
                )
            )
        for handle in deletes:
            self.serial += 1
            changes.append(
                ProductChange(
                    f"c{self.serial}",
                    Operation.DELETE,
                    handle,
                    base=self.base.get(handle),
                    remote=self.remote.get(handle),
                )
            )
        return changes

    def plan(
        self,
        changes: list[ProductChange],
        strategy: Strategy = Strategy.BALANCED,
        **conditions: Any,
    ) -> Plan:
        return plan_changes(changes, strategy, StoreConditions(self.location_ids, **conditions))

    async def push(
        self,
        desired: list[ProductSnapshot],
        deletes: tuple[str, ...] = (),
        strategy: Strategy = Strategy.BALANCED,
        **conditions: Any,
    ) -> RunReport:
        changes = self.changes(desired, deletes)
        plan = self.plan(changes, strategy, **conditions)
        report = await PlanRunner(self.client, bulk=self.bulk, concurrency=4).run(plan)
        self.remember(changes, report)
        return report

    def remember(self, changes: list[ProductChange], report: RunReport) -> None:
        for outcome in report.outcomes:
            if outcome.ok and outcome.work.kind is WorkKind.PRODUCT_SET and outcome.payload:
                self.remote[outcome.work.handle] = RemoteIds.from_product(
                    outcome.payload["product"]
                )
        succeeded = report.succeeded_changes()
        for change in changes:
            if change.change_id not in succeeded:
                continue
            if change.operation is Operation.DELETE:
                self.base.pop(change.handle, None)
                self.remote.pop(change.handle, None)
            else:
                assert change.desired is not None
                self.base[change.handle] = change.desired


def shopify_state(emulator: RunningEmulator) -> dict[str, Any]:
    """What the emulator holds, in the catalog's terms."""
    data = emulator.shop().data
    locations = {number: loc.name for number, loc in data.locations.items()}
    state = {}
    for p in data.products.values():
        variants = {}
        for number in p.variant_numbers:
            v = data.variants[number]
            stock = {
                locations[loc]: level.quantities.get("available", 0)
                for (item, loc), level in data.inventory_levels.items()
                if item == v.inventory_item_number
            }
            variants[v.sku] = {"price": v.price, "barcode": v.barcode, "stock": stock}
        state[p.handle] = {
            "title": p.title,
            "tags": sorted(p.tags),
            "status": p.status,
            "vendor": p.vendor,
            "variants": variants,
            "metafields": {f"{ns}.{key}": m.value for (ns, key), m in p.metafields.items()},
        }
    return state


def expected_state(snapshots: list[ProductSnapshot]) -> dict[str, Any]:
    return {
        s.handle: {
            "title": s.title,
            "tags": sorted(s.tags),
            "status": s.status.upper(),
            "vendor": s.vendor,
            "variants": {
                v.sku: {
                    "price": f"{v.price:.2f}",
                    "barcode": v.barcode or None,
                    "stock": dict(v.inventory),
                }
                for v in s.variants
            },
            "metafields": {f"{m.namespace}.{m.key}": m.value for m in s.metafields},
        }
        for s in snapshots
    }
