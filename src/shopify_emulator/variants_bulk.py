"""productVariantsBulkCreate/Update/Delete: Shopify's per-variant validation and the option
bookkeeping that adding variants brings (new option values, the standalone default variant).

As in catalog.py, each operation is planned and validated in full before anything changes, so a
rejected request applies nothing. Errors carry the field paths and the codes of the
ProductVariantsBulk*UserErrorCode enums.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from shopify_emulator.catalog import (
    DEFAULT_OPTION,
    UserErrors,
    check_metafields,
    create_variant,
    delete_variant,
    set_metafields,
    update_variant,
    user_error,
)
from shopify_emulator.ids import number_of
from shopify_emulator.shops import Shop
from shopify_emulator.state import OptionValue, Product, ProductOption, ShopData, Variant

# Shopify's Money inputs stop just below 10^18.
PRICE_LIMIT = Decimal("1000000000000000000")
PRICE_LABELS = {"price": "Price", "compareAtPrice": "Compare at price"}
Error = dict[str, Any]


# Shared checks ------------------------------------------------------------------------------


def price_errors(spec: dict[str, Any], where: list[Any], invalid_code: str) -> list[Error]:
    errors = []
    for key, label in PRICE_LABELS.items():
        if spec.get(key) is not None:
            errors += _price_errors(_decimal(spec[key]), [*where, key], label, invalid_code)
    return errors


def _decimal(raw: Any) -> Decimal | None:
    try:
        amount = Decimal(str(raw))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _price_errors(
    amount: Decimal | None, where: list[Any], label: str, invalid_code: str
) -> list[Error]:
    """A negative price is GREATER_THAN_OR_EQUAL_TO in both enums; the rest is plain invalid."""
    if amount is None:
        return [user_error(where, f"{label} is invalid", invalid_code)]
    if amount < 0:
        message = f"{label} must be greater than or equal to 0"
        return [user_error(where, message, "GREATER_THAN_OR_EQUAL_TO")]
    if amount >= PRICE_LIMIT:
        return [user_error(where, f"must be less than {PRICE_LIMIT}", invalid_code)]
    return []


def option_pair(product: Product, entry: dict[str, Any]) -> tuple[str | None, str | None]:
    """(option name, value name) of a VariantOptionValueInput, which may name either by id."""
    if entry.get("optionId"):
        option = next((o for o in product.options if o.id == entry["optionId"]), None)
        option_name = option.name if option else None
    else:
        option_name = entry.get("optionName")
    value_name = entry.get("name")
    if entry.get("id"):
        value = next((v for o in product.options for v in o.values if v.id == entry["id"]), None)
        value_name = value.name if value else None
    return option_name, value_name


def variant_title(combination: Iterable[str]) -> str:
    return " / ".join(combination)


def add_missing_values(data: ShopData, product: Product, combination: list[str]) -> None:
    """Bulk mutations add an unknown value to its option instead of rejecting it."""
    for option, value in zip(product.options, combination, strict=True):
        if value not in {existing.name for existing in option.values}:
            option.values.append(OptionValue(data.next_number(), value))


def renumber_positions(data: ShopData, product: Product) -> None:
    for position, number in enumerate(product.variant_numbers, start=1):
        data.variants[number].position = position


def options_spec(option_names: list[str], combination: list[str]) -> list[dict[str, str]]:
    return [
        {"optionName": name, "name": value}
        for name, value in zip(option_names, combination, strict=True)
    ]


# productVariantsBulkCreate ---------------------------------------------------------------------


@dataclass
class CreatePlan:
    option_names: list[str]
    rebuild_options: bool
    removed: list[Variant]
    combinations: list[list[str]] = field(default_factory=list)


def _is_default_only(data: ShopData, product: Product) -> bool:
    name, value = DEFAULT_OPTION
    return (
        len(product.variant_numbers) == 1
        and [option.name for option in product.options] == [name]
        and data.variants[product.variant_numbers[0]].option_values == [value]
    )


def _standalone_to_remove(data: ShopData, product: Product, strategy: str) -> list[Variant]:
    """DEFAULT drops only a lone "Default Title" variant; REMOVE_STANDALONE_VARIANT drops any
    lone variant; PRESERVE_STANDALONE_VARIANT keeps it."""
    if len(product.variant_numbers) != 1:
        return []
    if strategy == "REMOVE_STANDALONE_VARIANT" or (
        strategy == "DEFAULT" and _is_default_only(data, product)
    ):
        return [data.variants[product.variant_numbers[0]]]
    return []


def _requested_option_names(product: Product, variants: list[dict[str, Any]]) -> list[str]:
    names: list[str] = []
    for spec in variants:
        for entry in spec.get("optionValues") or []:
            name, _ = option_pair(product, entry)
            if name and name not in names:
                names.append(name)
    return names


def plan_create(
    shop: Shop, product: Product, variants: list[dict[str, Any]], strategy: str
) -> CreatePlan:
    data = shop.data
    removed = _standalone_to_remove(data, product, strategy)
    rebuild = bool(removed) and _is_default_only(data, product)
    option_names = (
        _requested_option_names(product, variants)
        if rebuild
        else [option.name for option in product.options]
    )
    plan = CreatePlan(option_names, rebuild, removed)
    kept = {tuple(v.option_values) for v in data.product_variants(product) if v not in removed}
    errors: list[Error] = []
    for index, spec in enumerate(variants):
        combination, variant_errors = _create_combination(data, product, spec, index, option_names)
        errors += variant_errors
        if combination is not None:
            errors += _duplicate_errors(combination, kept, plan.combinations, index)
        plan.combinations.append(combination or [])
    if errors:
        raise UserErrors(errors)
    return plan


def _create_combination(
    data: ShopData,
    product: Product,
    spec: dict[str, Any],
    index: int,
    option_names: list[str],
) -> tuple[list[str] | None, list[Error]]:
    """The variant's value for each option, in option order; None when the input is wrong."""
    where = ["variants", index]
    errors = price_errors(spec, where, "INVALID")
    if spec.get("id"):
        errors.append(
            user_error([*where, "id"], "On create, this key cannot be used.", "NO_KEY_ON_CREATE")
        )
    errors += _unknown_location_errors(data, spec, where)
    errors += check_metafields(spec.get("metafields"), [*where, "metafields"], "INVALID")
    chosen, option_errors = _chosen_values(product, spec, where, option_names)
    errors += option_errors
    if errors:
        return None, errors
    return [chosen[name] for name in option_names], []


def _chosen_values(
    product: Product, spec: dict[str, Any], where: list[Any], option_names: list[str]
) -> tuple[dict[str, str], list[Error]]:
    """A new variant must give one value for every option, and only for those."""
    chosen: dict[str, str] = {}
    errors = []
    for value_index, entry in enumerate(spec.get("optionValues") or []):
        name, value = option_pair(product, entry)
        if name is None or value is None or name not in option_names:
            errors.append(
                user_error(
                    [*where, "optionValues", value_index],
                    f"Option '{name or entry.get('optionId')}' does not exist on the product",
                    "OPTION_VALUES_FOR_NUMBER_OF_UNKNOWN_OPTIONS",
                )
            )
        else:
            chosen[name] = value
    missing = [name for name in option_names if name not in chosen]
    if missing:
        errors.append(
            user_error(
                [*where, "optionValues"],
                f"Option values are missing for: {', '.join(missing)}",
                "NEED_TO_ADD_OPTION_VALUES",
            )
        )
    return chosen, errors


def _unknown_location_errors(data: ShopData, spec: dict[str, Any], where: list[Any]) -> list[Error]:
    errors = []
    for index, entry in enumerate(spec.get("inventoryQuantities") or []):
        number = number_of(entry["locationId"], "Location")
        if number is None or number not in data.locations:
            errors.append(
                user_error(
                    [*where, "inventoryQuantities", index, "locationId"],
                    "Quantity could not be set. The location was not found.",
                    "TRACKED_VARIANT_LOCATION_NOT_FOUND",
                )
            )
    return errors


def _duplicate_errors(
    combination: list[str],
    existing: set[tuple[str, ...]],
    requested: list[list[str]],
    index: int,
) -> list[Error]:
    title = variant_title(combination)
    if tuple(combination) in existing:
        return [
            user_error(
                ["variants", index],
                f"The variant '{title}' already exists.",
                "VARIANT_ALREADY_EXISTS",
            )
        ]
    if combination in requested:
        return [
            user_error(
                ["variants", index],
                f"The variant '{title}' already exists. Please change at least one option value.",
                "VARIANT_ALREADY_EXISTS_CHANGE_OPTION_VALUE",
            )
        ]
    return []


def apply_create(
    shop: Shop, product: Product, plan: CreatePlan, variants: list[dict[str, Any]]
) -> list[Variant]:
    data = shop.data
    for variant in plan.removed:
        delete_variant(data, variant)
        product.variant_numbers.remove(variant.number)
    if plan.rebuild_options:
        product.options = [
            ProductOption(data.next_number(), product.number, name, position, [])
            for position, name in enumerate(plan.option_names, start=1)
        ]
    renumber_positions(data, product)
    created = []
    for spec, combination in zip(variants, plan.combinations, strict=True):
        add_missing_values(data, product, combination)
        normalized = {**spec, "optionValues": options_spec(plan.option_names, combination)}
        created.append(create_variant(shop, product, normalized))
    return created


# productVariantsBulkUpdate ---------------------------------------------------------------------


@dataclass
class VariantChange:
    """One requested update: its target, its new option values (if any) and what is wrong."""

    index: int
    spec: dict[str, Any]
    variant: Variant | None = None
    combination: list[str] | None = None
    errors: list[Error] = field(default_factory=list)


def plan_update(
    data: ShopData, product: Product, variants: list[dict[str, Any]]
) -> list[VariantChange]:
    changes = [_plan_variant_update(data, product, spec, i) for i, spec in enumerate(variants)]
    _flag_colliding_combinations(data, product, changes)
    return changes


def _plan_variant_update(
    data: ShopData, product: Product, spec: dict[str, Any], index: int
) -> VariantChange:
    where = ["variants", index]
    change = VariantChange(index, spec)
    change.errors = price_errors(spec, where, "INVALID_INPUT")
    if spec.get("inventoryQuantities") is not None:
        change.errors.append(
            user_error(
                [*where, "inventoryQuantities"],
                "Inventory quantities can only be provided during create. To update inventory "
                "for existing variants, use inventoryAdjustQuantities.",
                "NO_INVENTORY_QUANTITIES_ON_VARIANTS_UPDATE",
            )
        )
    change.errors += check_metafields(
        spec.get("metafields"), [*where, "metafields"], "INVALID_VALUE"
    )
    change.variant, variant_errors = _variant_of(data, product, spec, where)
    change.errors += variant_errors
    if change.variant is not None and spec.get("optionValues") is not None:
        change.combination, option_errors = _updated_combination(
            product, change.variant, spec["optionValues"], where
        )
        change.errors += option_errors
    return change


def _variant_of(
    data: ShopData, product: Product, spec: dict[str, Any], where: list[Any]
) -> tuple[Variant | None, list[Error]]:
    if not spec.get("id"):
        message = "Product variant is missing ID attribute"
        return None, [user_error([*where, "id"], message, "PRODUCT_VARIANT_ID_MISSING")]
    number = number_of(spec["id"], "ProductVariant")
    if number is None or number not in product.variant_numbers:
        message = "Product variant does not exist"
        return None, [user_error([*where, "id"], message, "PRODUCT_VARIANT_DOES_NOT_EXIST")]
    return data.variants[number], []


def _updated_combination(
    product: Product, variant: Variant, entries: list[dict[str, Any]], where: list[Any]
) -> tuple[list[str], list[Error]]:
    """Options not mentioned keep their value; naming an unknown option is an error."""
    combination = list(variant.option_values)
    names = [option.name for option in product.options]
    errors = []
    for value_index, entry in enumerate(entries):
        name, value = option_pair(product, entry)
        if name not in names or value is None:
            errors.append(
                user_error(
                    [*where, "optionValues", value_index],
                    "Option does not exist",
                    "OPTION_DOES_NOT_EXIST",
                )
            )
        else:
            combination[names.index(name)] = value
    return combination, errors


def _flag_colliding_combinations(
    data: ShopData, product: Product, changes: list[VariantChange]
) -> None:
    """Two variants of one product may never end up with the same option values."""
    final = {n: tuple(data.variants[n].option_values) for n in product.variant_numbers}
    moving = [
        (change, change.variant.number, tuple(change.combination))
        for change in changes
        if change.variant is not None and change.combination is not None and not change.errors
    ]
    for _change, number, combination in moving:
        final[number] = combination
    for change, number, combination in moving:
        if any(other == combination for n, other in final.items() if n != number):
            change.errors.append(
                user_error(
                    ["variants", change.index],
                    f"The variant '{variant_title(combination)}' already exists.",
                    "VARIANT_ALREADY_EXISTS",
                )
            )


def apply_update(shop: Shop, product: Product, changes: list[VariantChange]) -> list[Variant]:
    """Apply the changes without errors; returns the variants that changed. Unlike
    productSet, metafields given here are added to the variant's, not replacing them."""
    data = shop.data
    updated = []
    for change in changes:
        variant = change.variant
        if variant is None or change.errors:
            continue
        updated.append(variant)
        fields = {k: v for k, v in change.spec.items() if k not in ("metafields", "optionValues")}
        update_variant(shop, variant, fields)
        if change.spec.get("metafields"):
            set_metafields(
                data, variant, "PRODUCTVARIANT", change.spec["metafields"], replace=False
            )
        if change.combination is not None:
            add_missing_values(data, product, change.combination)
            variant.option_values = change.combination
    return updated


# productVariantsBulkDelete ---------------------------------------------------------------------


def plan_delete(product: Product, variant_ids: list[str]) -> list[int]:
    numbers = []
    errors = []
    for index, variant_id in enumerate(variant_ids):
        number = number_of(variant_id, "ProductVariant")
        if number is None or number not in product.variant_numbers:
            errors.append(
                user_error(
                    ["variantsIds", index],
                    "At least one variant does not belong to the product",
                    "AT_LEAST_ONE_VARIANT_DOES_NOT_BELONG_TO_THE_PRODUCT",
                )
            )
        elif number not in numbers:
            numbers.append(number)
    if not errors and len(numbers) == len(product.variant_numbers):
        errors.append(
            user_error(
                ["variantsIds"], "Cannot delete default variant.", "CANNOT_DELETE_LAST_VARIANT"
            )
        )
    if errors:
        raise UserErrors(errors)
    return numbers


def apply_delete(data: ShopData, product: Product, numbers: list[int]) -> None:
    for number in numbers:
        delete_variant(data, data.variants[number])
        product.variant_numbers.remove(number)
    renumber_positions(data, product)
