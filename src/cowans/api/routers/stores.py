"""The Shopify stores the catalog publishes to, and their connection test.

Access tokens are write-only: accepted as `SecretStr` (so even an accidental repr of a request
body hides them), stored encrypted, and answered only as `has_access_token`. Webhook secrets
likewise (`has_webhook_secret`). A store with a webhook secret is subscribed to the webhooks the
pull listens to when it is created, given a secret, or its connection is tested; a failure to
subscribe is reported in `webhooks`, never a failure of the request. The rules for each
field live in `cowans.shopify.stores`; the schemas here only check shapes and sizes.
"""

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from cowans.api.deps import Admin, Approver, SessionDep, SettingsDep, Viewer, audit
from cowans.api.errors import error_responses
from cowans.api.schemas import Id
from cowans.config import Settings
from cowans.db.models import Store
from cowans.shopify import stores
from cowans.shopify.webhooks import WEBHOOK_TOPICS
from cowans.sync.approval import checked_rules

router = APIRouter(prefix="/api/shopify/stores", tags=["stores"])

Name = Annotated[str, Field(min_length=1, max_length=stores.MAX_NAME_LENGTH)]
Token = Annotated[SecretStr, Field(min_length=1, max_length=stores.MAX_TOKEN_LENGTH)]
ApiVersion = Annotated[str, Field(max_length=20, examples=["2026-10"])]
AdminUrl = Annotated[str, Field(max_length=stores.MAX_ADMIN_URL_LENGTH)]
LocationName = Annotated[str, Field(max_length=stores.MAX_LOCATION_NAME_LENGTH)]
LocationMap = Annotated[
    dict[LocationName, LocationName],
    Field(
        max_length=stores.MAX_LOCATIONS,
        description="Xorosoft location name -> Shopify location name.",
    ),
]


class StoreCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    shop_domain: Annotated[str, Field(max_length=300, examples=["cowans.myshopify.com"])]
    access_token: Token
    api_version: ApiVersion | None = None
    admin_url: Annotated[
        AdminUrl | None,
        Field(description="The full GraphQL endpoint; default Shopify's for the shop."),
    ] = None
    location_map: LocationMap | None = None
    webhook_secret: Annotated[
        Token | None,
        Field(description="The app's client secret, which Shopify signs webhooks with."),
    ] = None


class StoreUpdate(BaseModel):
    """Any of these. `admin_url: null` (or "") goes back to Shopify's default endpoint;
    `location_map` replaces the whole map; the shop domain cannot change."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    access_token: Token | None = None
    api_version: ApiVersion | None = None
    admin_url: AdminUrl | None = None
    location_map: LocationMap | None = None
    is_active: bool | None = None
    webhook_secret: Token | None = None


class WebhooksOut(BaseModel):
    """The topics Shopify delivers to `callback_url` for this store, and, in the answer to a
    request that tried to subscribe, why that failed (`error_code`: `webhook_secret_missing`,
    `shopify_webhook_subscription_refused`, or a connection test's code)."""

    subscribed: list[str]
    callback_url: str
    error: str | None = None
    error_code: str | None = None

    @classmethod
    def of(cls, setup: stores.WebhookSetup) -> "WebhooksOut":
        return cls(
            subscribed=list(setup.subscribed),
            callback_url=setup.callback_url,
            error=setup.error,
            error_code=setup.error_code,
        )


class StoreOut(BaseModel):
    """Never the token nor the webhook secret: `has_access_token` and `has_webhook_secret` say
    whether one is set, nothing more."""

    id: int
    name: str
    shop_domain: str
    api_version: str
    admin_url: str
    custom_admin_url: bool
    location_map: dict[str, str]
    plan: str
    is_active: bool
    has_access_token: bool
    has_webhook_secret: bool
    webhooks: WebhooksOut
    approval_rules: list[dict[str, Any]]
    last_pull_at: datetime | None
    last_push_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(
        cls, store: Store, settings: Settings, webhooks: stores.WebhookSetup | None = None
    ) -> "StoreOut":
        return cls(
            id=store.id,
            name=store.name,
            shop_domain=store.shop_domain,
            api_version=store.api_version,
            admin_url=stores.effective_admin_url(store, settings),
            custom_admin_url=bool(store.admin_url),
            location_map=dict(store.location_map or {}),
            plan=store.plan,
            is_active=store.is_active,
            has_access_token=bool(store.access_token),
            has_webhook_secret=bool(store.webhook_secret),
            webhooks=WebhooksOut.of(webhooks or stores.webhook_state(store, settings)),
            approval_rules=list(store.approval_rules or []),
            last_pull_at=store.last_pull_at,
            last_push_at=store.last_push_at,
            created_at=store.created_at,
            updated_at=store.updated_at,
        )


class ThrottleOut(BaseModel):
    currently_available: float
    maximum_available: float
    restore_rate: float


class ConnectionTestOut(BaseModel):
    """200 whether or not the shop answered: `ok: false` comes with `error` (a sentence for a
    person, never the token) and `error_code` (one of `ConnectionFailure`)."""

    ok: bool
    shop_name: str | None
    plan: str | None
    throttle: ThrottleOut | None
    myshopify_domain: str | None
    shopify_plus: bool | None
    error: str | None
    error_code: str | None
    elapsed_ms: float
    # After a successful test: the store's webhook subscriptions, made if missing.
    webhooks: WebhooksOut | None = None

    @classmethod
    def of(
        cls, outcome: stores.ConnectionTest, webhooks: stores.WebhookSetup | None = None
    ) -> "ConnectionTestOut":
        throttle = outcome.throttle
        return cls(
            ok=outcome.ok,
            shop_name=outcome.shop_name,
            plan=outcome.plan,
            throttle=ThrottleOut(**asdict(throttle)) if throttle else None,
            myshopify_domain=outcome.myshopify_domain,
            shopify_plus=outcome.shopify_plus,
            error=outcome.error,
            error_code=outcome.error_code,
            elapsed_ms=outcome.elapsed_ms,
            webhooks=WebhooksOut.of(webhooks) if webhooks else None,
        )


@router.get("", response_model=list[StoreOut])
def list_stores(_: Viewer, session: SessionDep, settings: SettingsDep) -> list[StoreOut]:
    return [StoreOut.of(store, settings) for store in stores.list_stores(session)]


@router.post(
    "",
    response_model=StoreOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(409),  # the shop domain has a store already
)
def create_store(
    body: StoreCreate, request: Request, _: Admin, session: SessionDep, settings: SettingsDep
) -> StoreOut:
    store = stores.create_store(
        session,
        settings,
        name=body.name,
        shop_domain=body.shop_domain,
        access_token=body.access_token.get_secret_value(),
        api_version=body.api_version,
        admin_url=body.admin_url,
        location_map=body.location_map,
        webhook_secret=_secret(body.webhook_secret),
    )
    webhooks = None
    if store.webhook_secret:
        webhooks = stores.subscribe_webhooks(session, settings, store.id)
    audit(
        request,
        store_id=store.id,
        name=store.name,
        shop_domain=store.shop_domain,
        webhooks=(webhooks.error_code or "subscribed") if webhooks else None,
    )
    return StoreOut.of(store, settings, webhooks)


@router.get("/{store_id}", response_model=StoreOut)
def get_store(store_id: Id, _: Viewer, session: SessionDep, settings: SettingsDep) -> StoreOut:
    return StoreOut.of(stores.get_store(session, store_id), settings)


@router.patch("/{store_id}", response_model=StoreOut)
def update_store(
    store_id: Id,
    body: StoreUpdate,
    request: Request,
    _: Admin,
    session: SessionDep,
    settings: SettingsDep,
) -> StoreOut:
    sent = body.model_fields_set
    store = stores.update_store(
        session,
        settings,
        store_id,
        name=body.name,
        access_token=_secret(body.access_token),
        api_version=body.api_version,
        # An explicit null means "back to the default", unlike a field not sent at all.
        admin_url=(body.admin_url or "") if "admin_url" in sent else None,
        location_map=body.location_map,
        is_active=body.is_active,
        webhook_secret=_secret(body.webhook_secret),
    )
    webhooks = None
    if body.webhook_secret is not None and _subscriptions_missing(store, settings):
        webhooks = stores.subscribe_webhooks(session, settings, store.id)
    # Field names only: which fields changed, never their values (one of them is the token).
    audit(request, store_id=store.id, name=store.name, fields=sorted(sent))
    return StoreOut.of(store, settings, webhooks)


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def _subscriptions_missing(store: Store, settings: Settings) -> bool:
    return not set(WEBHOOK_TOPICS) <= set(stores.subscribed_topics(store, settings))


class ApprovalRuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["stock_only", "price_within_percent"]
    percent: Annotated[float | None, Field(gt=0, le=100)] = None


class ApprovalRulesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: Annotated[list[ApprovalRuleIn], Field(max_length=20)]


@router.put("/{store_id}/approval-rules", response_model=StoreOut)
def set_approval_rules(
    store_id: Id,
    body: ApprovalRulesIn,
    request: Request,
    _: Admin,
    session: SessionDep,
    settings: SettingsDep,
) -> StoreOut:
    """Which staged updates approve themselves for this store (an empty list: none). Creates
    and deletes always wait for a person."""
    store = stores.get_store(session, store_id)
    store.approval_rules = checked_rules(
        [rule.model_dump(exclude_none=True) for rule in body.rules]
    )
    audit(request, store_id=store.id, approval_rules=store.approval_rules)
    return StoreOut.of(store, settings)


@router.post("/{store_id}/test-connection", response_model=ConnectionTestOut)
def connection_test(
    store_id: Id, request: Request, _: Approver, session: SessionDep, settings: SettingsDep
) -> ConnectionTestOut:
    """Ask the shop for its name and plan (the plan is kept on the store) and report Shopify's
    throttle bucket. Always 200 for a store that exists: whether the shop answered is the
    result (`ok`), with a readable `error` when it did not. When it answered, the store's
    webhook subscriptions are checked in Shopify and the missing ones made (`webhooks`).
    Takes at most about 20 seconds, twice that with the subscriptions."""
    outcome = stores.test_connection(session, settings, store_id)
    webhooks = stores.subscribe_webhooks(session, settings, store_id) if outcome.ok else None
    store = stores.get_store(session, store_id)
    audit(request, store_id=store_id, name=store.name, ok=outcome.ok, error=outcome.error_code)
    return ConnectionTestOut.of(outcome, webhooks)
