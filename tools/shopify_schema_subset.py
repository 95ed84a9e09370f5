"""Write the emulator's SDL: the chosen subset of Shopify's Admin GraphQL schema (2026-10).

    python tools/shopify_schema_subset.py ../shared/shopify/admin_2026-10.json.gz \
        > src/shopify_emulator/schema.graphql

SELECTION names every object, interface and input type the emulator serves, with the fields it
implements. Enums come whole, scalars as named, and a field keeps every argument whose type is
selected; a required argument or input field that cannot be kept is an error here, so the SDL can
never accept a document Shopify would reject. tests/emulator/test_schema_subset.py proves the
result is a strict subset of the reference, field by field.
"""

import gzip
import json
import sys
from typing import Any

CONNECTION = ["edges", "nodes", "pageInfo"]
EDGE = ["cursor", "node"]
ERROR = ["field", "message"]
CODED_ERROR = ["code", "field", "message"]
HAS_METAFIELDS = ["metafield", "metafields"]

SELECTION: dict[str, list[str]] = {
    "QueryRoot": [
        "shop",
        "locations",
        "location",
        "products",
        "product",
        "productByIdentifier",
        "productVariants",
        "productVariant",
        "inventoryItem",
        "node",
        "nodes",
        "collections",
        "collection",
        "collectionByIdentifier",
        "bulkOperation",
        "bulkOperations",
        "currentBulkOperation",
        "productOperation",
        "job",
        "webhookSubscriptions",
        "webhookSubscription",
    ],
    "Mutation": [
        "productSet",
        "productCreate",
        "productUpdate",
        "productDelete",
        "productVariantsBulkCreate",
        "productVariantsBulkUpdate",
        "productVariantsBulkDelete",
        "inventorySetQuantities",
        "inventoryItemUpdate",
        "metafieldsSet",
        "metafieldsDelete",
        "tagsAdd",
        "tagsRemove",
        "collectionCreate",
        "collectionAddProductsV2",
        "stagedUploadsCreate",
        "bulkOperationRunQuery",
        "bulkOperationRunMutation",
        "bulkOperationCancel",
        "webhookSubscriptionCreate",
        "webhookSubscriptionDelete",
    ],
    # Interfaces
    "Node": ["id"],
    "HasMetafields": HAS_METAFIELDS,
    "Media": ["alt", "id", "mediaContentType", "status"],
    "ProductOperation": ["product", "status"],
    "DisplayableError": ERROR,
    # Shop and locations
    "Shop": ["id", "name", "myshopifyDomain", "email", "currencyCode", "plan", "url"],
    "ShopPlan": ["displayName", "partnerDevelopment", "publicDisplayName", "shopifyPlus"],
    "Location": [
        "id",
        "name",
        "isActive",
        "isPrimary",
        "fulfillsOnlineOrders",
        "createdAt",
        "updatedAt",
        "legacyResourceId",
        "inventoryLevel",
        "inventoryLevels",
    ],
    "LocationConnection": CONNECTION,
    "LocationEdge": EDGE,
    "PageInfo": ["endCursor", "hasNextPage", "hasPreviousPage", "startCursor"],
    "Count": ["count", "precision"],
    # Products
    "Product": [
        "id",
        "legacyResourceId",
        "handle",
        "title",
        "descriptionHtml",
        "vendor",
        "productType",
        "tags",
        "status",
        "createdAt",
        "updatedAt",
        "publishedAt",
        "options",
        "variants",
        "variantsCount",
        "totalInventory",
        "tracksInventory",
        "hasOnlyDefaultVariant",
        "media",
        "mediaCount",
        "featuredMedia",
        "metafield",
        "metafields",
        "collections",
        "inCollection",
        "seo",
        "templateSuffix",
        "isGiftCard",
    ],
    "ProductConnection": CONNECTION,
    "ProductEdge": EDGE,
    "SEO": ["description", "title"],
    "ProductOption": ["id", "name", "position", "values", "optionValues"],
    "ProductOptionValue": ["id", "name", "hasVariants"],
    "ProductVariant": [
        "id",
        "legacyResourceId",
        "title",
        "displayName",
        "sku",
        "barcode",
        "price",
        "compareAtPrice",
        "inventoryPolicy",
        "inventoryItem",
        "inventoryQuantity",
        "position",
        "selectedOptions",
        "taxable",
        "product",
        "metafield",
        "metafields",
        "createdAt",
        "updatedAt",
    ],
    "ProductVariantConnection": CONNECTION,
    "ProductVariantEdge": EDGE,
    "SelectedOption": ["name", "value"],
    "InventoryItem": [
        "id",
        "legacyResourceId",
        "sku",
        "tracked",
        "requiresShipping",
        "measurement",
        "inventoryLevel",
        "inventoryLevels",
        "unitCost",
        "variant",
        "createdAt",
        "updatedAt",
    ],
    "InventoryItemMeasurement": ["id", "weight"],
    "MoneyV2": ["amount", "currencyCode"],
    "Weight": ["unit", "value"],
    "InventoryLevel": ["id", "item", "location", "quantities", "createdAt", "updatedAt"],
    "InventoryLevelConnection": CONNECTION,
    "InventoryLevelEdge": EDGE,
    "InventoryQuantity": ["id", "name", "quantity", "updatedAt"],
    "InventoryAdjustmentGroup": ["id", "createdAt", "reason", "referenceDocumentUri", "changes"],
    "InventoryChange": ["delta", "item", "location", "name", "quantityAfterChange"],
    "Metafield": [
        "id",
        "legacyResourceId",
        "namespace",
        "key",
        "type",
        "value",
        "jsonValue",
        "compareDigest",
        "ownerType",
        "createdAt",
        "updatedAt",
    ],
    "MetafieldConnection": CONNECTION,
    "MetafieldEdge": EDGE,
    "MetafieldIdentifier": ["key", "namespace", "ownerId"],
    "MediaImage": ["id", "alt", "status", "mediaContentType", "image", "createdAt", "updatedAt"],
    "MediaConnection": CONNECTION,
    "MediaEdge": EDGE,
    "Image": ["id", "altText", "url", "width", "height"],
    "Collection": [
        "id",
        "legacyResourceId",
        "title",
        "handle",
        "descriptionHtml",
        "sortOrder",
        "ruleSet",
        "products",
        "productsCount",
        "hasProduct",
        "updatedAt",
        "metafield",
        "metafields",
    ],
    "CollectionConnection": CONNECTION,
    "CollectionEdge": EDGE,
    "CollectionRuleSet": ["appliedDisjunctively", "rules"],
    "CollectionRule": ["column", "condition", "relation"],
    # Operations, jobs, bulk, uploads, webhooks
    "ProductSetOperation": ["id", "product", "status", "userErrors"],
    "ProductDeleteOperation": ["id", "deletedProductId", "product", "status", "userErrors"],
    "Job": ["id", "done", "query"],
    "BulkOperation": [
        "id",
        "status",
        "errorCode",
        "createdAt",
        "completedAt",
        "objectCount",
        "rootObjectCount",
        "fileSize",
        "url",
        "partialDataUrl",
        "query",
        "type",
    ],
    "BulkOperationConnection": CONNECTION,
    "BulkOperationEdge": EDGE,
    "StagedMediaUploadTarget": ["parameters", "resourceUrl", "url"],
    "StagedUploadParameter": ["name", "value"],
    "WebhookSubscription": [
        "id",
        "legacyResourceId",
        "topic",
        "uri",
        "format",
        "includeFields",
        "metafieldNamespaces",
        "filter",
        "createdAt",
        "updatedAt",
    ],
    "WebhookSubscriptionConnection": CONNECTION,
    "WebhookSubscriptionEdge": EDGE,
    # Payloads and their errors
    "ProductSetPayload": ["product", "productSetOperation", "userErrors"],
    "ProductSetUserError": CODED_ERROR,
    "ProductCreatePayload": ["product", "shop", "userErrors"],
    "ProductUpdatePayload": ["product", "userErrors"],
    "ProductDeletePayload": ["deletedProductId", "productDeleteOperation", "shop", "userErrors"],
    "UserError": ERROR,
    "ProductVariantsBulkCreatePayload": ["product", "productVariants", "userErrors"],
    "ProductVariantsBulkCreateUserError": CODED_ERROR,
    "ProductVariantsBulkUpdatePayload": ["product", "productVariants", "userErrors"],
    "ProductVariantsBulkUpdateUserError": CODED_ERROR,
    "ProductVariantsBulkDeletePayload": ["product", "userErrors"],
    "ProductVariantsBulkDeleteUserError": CODED_ERROR,
    "InventorySetQuantitiesPayload": ["inventoryAdjustmentGroup", "userErrors"],
    "InventorySetQuantitiesUserError": CODED_ERROR,
    "InventoryItemUpdatePayload": ["inventoryItem", "userErrors"],
    "MetafieldsSetPayload": ["metafields", "userErrors"],
    "MetafieldsSetUserError": [*CODED_ERROR, "elementIndex"],
    "MetafieldsDeletePayload": ["deletedMetafields", "userErrors"],
    "TagsAddPayload": ["node", "userErrors"],
    "TagsRemovePayload": ["node", "userErrors"],
    "CollectionCreatePayload": ["collection", "userErrors"],
    "CollectionAddProductsV2Payload": ["job", "userErrors"],
    "CollectionAddProductsV2UserError": CODED_ERROR,
    "StagedUploadsCreatePayload": ["stagedTargets", "userErrors"],
    "BulkOperationRunQueryPayload": ["bulkOperation", "userErrors"],
    "BulkOperationUserError": CODED_ERROR,
    "BulkOperationRunMutationPayload": ["bulkOperation", "userErrors"],
    "BulkMutationUserError": CODED_ERROR,
    "BulkOperationCancelPayload": ["bulkOperation", "userErrors"],
    "WebhookSubscriptionCreatePayload": ["userErrors", "webhookSubscription"],
    "WebhookSubscriptionDeletePayload": ["deletedWebhookSubscriptionId", "userErrors"],
    # Inputs
    "ProductIdentifierInput": ["customId", "handle", "id"],
    "CollectionIdentifierInput": ["customId", "handle", "id"],
    "ProductSetIdentifiers": ["customId", "handle", "id"],
    "ProductUpdateIdentifiers": ["customId", "handle", "id"],
    "UniqueMetafieldValueInput": ["key", "namespace", "value"],
    "ProductSetInput": [
        "collections",
        "descriptionHtml",
        "files",
        "handle",
        "id",
        "metafields",
        "productOptions",
        "productType",
        "seo",
        "status",
        "tags",
        "templateSuffix",
        "title",
        "variants",
        "vendor",
        "giftCard",
    ],
    "ProductVariantSetInput": [
        "barcode",
        "compareAtPrice",
        "id",
        "inventoryItem",
        "inventoryPolicy",
        "inventoryQuantities",
        "metafields",
        "optionValues",
        "position",
        "price",
        "sku",
        "taxable",
    ],
    "ProductSetInventoryInput": ["locationId", "name", "quantity"],
    "OptionSetInput": ["id", "name", "position", "values"],
    "OptionValueSetInput": ["id", "name"],
    "VariantOptionValueInput": ["id", "name", "optionId", "optionName"],
    "FileSetInput": ["alt", "contentType", "filename", "id", "originalSource"],
    "MetafieldInput": ["id", "key", "namespace", "type", "value"],
    "SEOInput": ["description", "title"],
    "InventoryItemInput": ["measurement", "requiresShipping", "sku", "tracked", "cost"],
    "InventoryItemMeasurementInput": ["weight"],
    "WeightInput": ["unit", "value"],
    "ProductCreateInput": [
        "collectionsToJoin",
        "descriptionHtml",
        "handle",
        "metafields",
        "productOptions",
        "productType",
        "seo",
        "status",
        "tags",
        "templateSuffix",
        "title",
        "vendor",
    ],
    "OptionCreateInput": ["name", "position", "values"],
    "OptionValueCreateInput": ["name"],
    "ProductUpdateInput": [
        "collectionsToJoin",
        "collectionsToLeave",
        "descriptionHtml",
        "handle",
        "id",
        "metafields",
        "productType",
        "seo",
        "status",
        "tags",
        "templateSuffix",
        "title",
        "vendor",
    ],
    "CreateMediaInput": ["alt", "mediaContentType", "originalSource"],
    "ProductDeleteInput": ["id"],
    "ProductVariantsBulkInput": [
        "barcode",
        "compareAtPrice",
        "id",
        "inventoryItem",
        "inventoryPolicy",
        "inventoryQuantities",
        "mediaSrc",
        "metafields",
        "optionValues",
        "price",
        "taxable",
    ],
    "InventoryLevelInput": ["availableQuantity", "locationId"],
    "InventorySetQuantitiesInput": ["name", "quantities", "reason", "referenceDocumentUri"],
    "InventoryQuantityInput": ["changeFromQuantity", "inventoryItemId", "locationId", "quantity"],
    "MetafieldsSetInput": ["compareDigest", "key", "namespace", "ownerId", "type", "value"],
    "MetafieldIdentifierInput": ["key", "namespace", "ownerId"],
    "CollectionCreateInput": [
        "descriptionHtml",
        "handle",
        "metafields",
        "seo",
        "sortOrder",
        "title",
    ],
    "CollectionInput": [
        "descriptionHtml",
        "handle",
        "id",
        "metafields",
        "products",
        "seo",
        "sortOrder",
        "title",
    ],
    "StagedUploadInput": ["fileSize", "filename", "httpMethod", "mimeType", "resource"],
    "WebhookSubscriptionInput": [
        "callbackUrl",
        "filter",
        "format",
        "includeFields",
        "metafieldNamespaces",
        "uri",
    ],
}
SCALARS = [
    "DateTime",
    "Money",
    "HTML",
    "JSON",
    "URL",
    "UnsignedInt64",
    "Decimal",
    "FormattedString",
]
# Unselected input/object types an otherwise selected argument or field would need: leave out.


def load(path: str) -> dict[str, dict[str, Any]]:
    with gzip.open(path) as handle:
        schema = json.load(handle)["data"]["__schema"]
    return {t["name"]: t for t in schema["types"]}


def type_ref(ref: dict[str, Any]) -> str:
    if ref["kind"] == "NON_NULL":
        return type_ref(ref["ofType"]) + "!"
    if ref["kind"] == "LIST":
        return "[" + type_ref(ref["ofType"]) + "]"
    return ref["name"]


def named(ref: dict[str, Any]) -> str:
    while ref.get("ofType"):
        ref = ref["ofType"]
    return ref["name"]


BUILTIN = {"String", "Int", "Float", "Boolean", "ID"}


class Subset:
    def __init__(self, types: dict[str, dict[str, Any]]) -> None:
        self.types = types
        self.enums: set[str] = set()
        self.scalars: set[str] = set()
        self.unions: set[str] = set()

    def usable(self, type_name: str) -> bool:
        kind = self.types[type_name]["kind"]
        if type_name in BUILTIN:
            return True
        if kind == "ENUM":
            self.enums.add(type_name)
            return True
        if kind == "SCALAR":
            if type_name not in SCALARS:
                raise SystemExit(f"scalar {type_name} is used but not listed in SCALARS")
            self.scalars.add(type_name)
            return True
        return type_name in SELECTION

    def default(self, value: str | None) -> str:
        return f" = {value}" if value is not None else ""

    def render_args(self, owner: str, field: dict[str, Any]) -> str:
        kept = []
        for arg in field.get("args") or []:
            if self.usable(named(arg["type"])):
                kept.append(
                    f"{arg['name']}: {type_ref(arg['type'])}{self.default(arg['defaultValue'])}"
                )
            elif arg["type"]["kind"] == "NON_NULL" and arg["defaultValue"] is None:
                raise SystemExit(f"{owner}.{field['name']} needs argument {arg['name']}")
        return f"({', '.join(kept)})" if kept else ""

    def render_type(self, name: str) -> str:
        t = self.types.get(name)
        if t is None:
            raise SystemExit(f"{name} is not in the reference schema")
        wanted = SELECTION[name]
        fields = {f["name"]: f for f in (t.get("fields") or t.get("inputFields") or [])}
        missing = [f for f in wanted if f not in fields]
        if missing:
            raise SystemExit(f"{name} has no field(s) {missing}")
        lines = []
        for field_name in sorted(fields):
            field = fields[field_name]
            required_input = (
                t["kind"] == "INPUT_OBJECT"
                and field["type"]["kind"] == "NON_NULL"
                and field.get("defaultValue") is None
            )
            if field_name not in wanted:
                if required_input:
                    raise SystemExit(f"{name}.{field_name} is required: select it")
                continue
            field_type = named(field["type"])
            if not self.usable(field_type):
                if self.types[field_type]["kind"] == "UNION":
                    raise SystemExit(f"{name}.{field_name}: union {field_type} is not supported")
                raise SystemExit(f"{name}.{field_name} needs type {field_type}: select it")
            if t["kind"] == "INPUT_OBJECT":
                default = self.default(field.get("defaultValue"))
                lines.append(f"  {field_name}: {type_ref(field['type'])}{default}")
            else:
                lines.append(
                    f"  {field_name}{self.render_args(name, field)}: {type_ref(field['type'])}"
                )
        keyword = {"OBJECT": "type", "INTERFACE": "interface", "INPUT_OBJECT": "input"}[t["kind"]]
        # An interface is declared only where the type serves every field it selects.
        interfaces = [
            i["name"]
            for i in t.get("interfaces") or []
            if i["name"] in SELECTION and set(SELECTION[i["name"]]) <= set(wanted)
        ]
        implements = f" implements {' & '.join(sorted(interfaces))}" if interfaces else ""
        return f"{keyword} {name}{implements} {{\n" + "\n".join(lines) + "\n}"

    def render_enum(self, name: str) -> str:
        values = "\n".join(f"  {v['name']}" for v in self.types[name]["enumValues"])
        return f"enum {name} {{\n{values}\n}}"


def main(path: str) -> None:
    subset = Subset(load(path))
    blocks = [subset.render_type(name) for name in sorted(SELECTION)]
    blocks += [subset.render_enum(name) for name in sorted(subset.enums)]
    blocks += [f"scalar {name}" for name in sorted(subset.scalars)]
    header = (
        "# A strict subset of Shopify's Admin GraphQL schema, API version 2026-10.\n"
        "# Generated by tools/shopify_schema_subset.py; edit SELECTION there, not this file.\n\n"
        "schema {\n  query: QueryRoot\n  mutation: Mutation\n}\n\n"
        "directive @idempotent(key: String!) on FIELD\n\n"
    )
    sys.stdout.write(header + "\n\n".join(blocks) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
