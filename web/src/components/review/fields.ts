// Flat field names of a staged change (src/cowans/sync/snapshots.py) in words a person reads:
// `variants.ACM-1.inventory.Main Warehouse` is "Stock at Main Warehouse" of variant ACM-1.

import type { FieldChange, Resolution } from "../../api/review";
import { fieldLabel } from "../../fieldLabels";

export type FieldKind =
  | "text"
  | "html"
  | "list"
  | "images"
  | "money"
  | "stock"
  | "number"
  | "boolean"
  | "choice"
  | "metafield";

export interface FieldInfo {
  name: string;
  /** "Product", or the variant's SKU. */
  group: string;
  label: string;
  kind: FieldKind;
  /** For "choice": the values the field takes. */
  choices?: string[];
}

export function fieldInfo(name: string): FieldInfo {
  if (name.startsWith("variants.")) {
    const rest = name.slice("variants.".length);
    const stock = rest.indexOf(".inventory.");
    if (stock >= 0) {
      const location = rest.slice(stock + ".inventory.".length);
      return { name, group: rest.slice(0, stock), label: `Stock at ${location}`, kind: "stock" };
    }
    const dot = rest.lastIndexOf(".");
    const sku = dot >= 0 ? rest.slice(0, dot) : rest;
    const attribute = dot >= 0 ? rest.slice(dot + 1) : "";
    const label = fieldLabel(attribute);
    if (attribute === "price" || attribute === "compare_at_price")
      return { name, group: sku, label, kind: "money" };
    if (attribute === "weight_grams") return { name, group: sku, label, kind: "number" };
    if (attribute === "taxable") return { name, group: sku, label, kind: "boolean" };
    if (attribute === "inventory_policy")
      return { name, group: sku, label, kind: "choice", choices: ["deny", "continue"] };
    return { name, group: sku, label, kind: "text" };
  }
  if (name.startsWith("metafields.")) {
    const rest = name.slice("metafields.".length);
    const dot = rest.indexOf(".");
    const namespace = dot >= 0 ? rest.slice(0, dot) : "";
    const key = dot >= 0 ? rest.slice(dot + 1) : rest;
    const label = namespace === "custom" ? `Specification: ${key}` : `Metafield ${rest}`;
    return { name, group: "Product", label, kind: "metafield" };
  }
  const label = fieldLabel(name);
  if (name === "body_html") return { name, group: "Product", label, kind: "html" };
  if (name === "tags" || name === "collections")
    return { name, group: "Product", label, kind: "list" };
  if (name === "images") return { name, group: "Product", label, kind: "images" };
  if (name === "status")
    return {
      name,
      group: "Product",
      label,
      kind: "choice",
      choices: ["active", "draft", "archived"],
    };
  return { name, group: "Product", label, kind: "text" };
}

/** "Price (ACM-1)" — a field's label with its variant, for one-line summaries. */
export function shortLabel(name: string): string {
  const info = fieldInfo(name);
  return info.group === "Product" ? info.label : `${info.label} (${info.group})`;
}

/** The changed fields of a row in a few words, conflicts first. */
export function summarize(changes: Record<string, FieldChange>, conflicts: string[], max = 3) {
  const names = [...conflicts, ...Object.keys(changes).filter((n) => !conflicts.includes(n))];
  const shown = names.slice(0, max).map(shortLabel);
  const more = names.length - shown.length;
  return more > 0 ? `${shown.join(", ")} +${more} more` : shown.join(", ");
}

/** Fields grouped for the diff panel: the product's first, then each variant's. */
export function groupedFields(changes: Record<string, FieldChange>, conflicts: string[]) {
  const groups = new Map<string, FieldInfo[]>();
  const names = Object.keys(changes).sort((a, b) => {
    const conflictOrder = Number(conflicts.includes(b)) - Number(conflicts.includes(a));
    return conflictOrder || a.localeCompare(b);
  });
  for (const name of names) {
    const info = fieldInfo(name);
    const list = groups.get(info.group) ?? [];
    list.push(info);
    groups.set(info.group, list);
  }
  const product = groups.get("Product");
  groups.delete("Product");
  return [...(product ? [["Product", product] as const] : []), ...groups.entries()];
}

/** A value as one line of text: "—" when the field is not set. */
export function plain(value: unknown): string {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return value.map((v) => plain(v)).join(", ");
  return JSON.stringify(value);
}

/** A value as one line, prices with their cents ("10" reads "10.00"). */
export function display(info: FieldInfo, value: unknown): string {
  const text = plain(value);
  return info.kind === "money" && /^\d+(\.\d{1,2})?$/.test(text) ? Number(text).toFixed(2) : text;
}

/** A metafield's value: list types travel as a JSON array in a string. */
export function metafieldItems(value: unknown): string[] | null {
  if (typeof value !== "string" || !value.startsWith("[")) return null;
  try {
    const parsed: unknown = JSON.parse(value);
    return Array.isArray(parsed) ? parsed.map((v) => plain(v)) : null;
  } catch {
    return null;
  }
}

/** The text to start an "enter a value" box with. */
export function editableText(info: FieldInfo, value: unknown): string {
  if (value === null || value === undefined) return "";
  if (info.kind === "list" && Array.isArray(value)) return value.map((v) => plain(v)).join(", ");
  if (info.kind === "images") return JSON.stringify(value);
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** What a typed value means for a field, or a sentence saying what is wrong with it. */
export function parseEntered(
  info: FieldInfo,
  text: string,
): { ok: true; value: unknown } | { ok: false; error: string } {
  const trimmed = text.trim();
  switch (info.kind) {
    case "stock":
      return /^-?\d+$/.test(trimmed)
        ? { ok: true, value: Number(trimmed) }
        : { ok: false, error: "Enter a whole number of items." };
    case "money":
    case "number":
      return /^\d+(\.\d+)?$/.test(trimmed)
        ? { ok: true, value: trimmed }
        : { ok: false, error: "Enter a number such as 12.50." };
    case "boolean":
      if (trimmed === "true" || trimmed === "false") return { ok: true, value: trimmed === "true" };
      return { ok: false, error: "Choose true or false." };
    case "choice":
      return info.choices?.includes(trimmed)
        ? { ok: true, value: trimmed }
        : { ok: false, error: `Choose one of: ${(info.choices ?? []).join(", ")}.` };
    case "list":
      return {
        ok: true,
        value: trimmed
          .split(",")
          .map((word) => word.trim())
          .filter(Boolean),
      };
    case "images":
      try {
        const parsed: unknown = JSON.parse(trimmed || "[]");
        if (Array.isArray(parsed)) return { ok: true, value: parsed };
      } catch {
        // falls through to the message
      }
      return { ok: false, error: 'Enter a list such as [["https://…/a.jpg", "alt text"]].' };
    default:
      return { ok: true, value: text };
  }
}

/** A person's choice for one conflicting field, while they make it. */
export type Choice = { kind: "local" } | { kind: "remote" } | { kind: "value"; text: string };

/** The API's resolutions for a row, or null while a field lacks a usable choice. */
export function toResolution(
  conflicts: string[],
  choices: Record<string, Choice> | undefined,
): Record<string, Resolution> | null {
  if (!choices) return null;
  const resolution: Record<string, Resolution> = {};
  for (const name of conflicts) {
    const choice = choices[name];
    if (!choice) return null;
    if (choice.kind === "value") {
      const parsed = parseEntered(fieldInfo(name), choice.text);
      if (!parsed.ok) return null;
      resolution[name] = { value: parsed.value };
    } else {
      resolution[name] = choice.kind;
    }
  }
  return resolution;
}
