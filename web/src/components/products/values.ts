// How catalog values read to a person: field names, where a value came from, any JSON value.
import type { Provenance } from "../../api/products";
import { ago } from "../../format";

const SOURCES: Record<string, string> = {
  etilize: "Etilize feed",
  xorosoft: "Xorosoft",
  user: "Edited by hand",
  shopify: "Shopify (approved pull)",
};

export function sourceLabel(source: string | undefined): string {
  if (!source) return "—";
  return SOURCES[source] ?? source;
}

/** "Etilize feed, import #3" / "Edited by hand by you", for a provenance or a version. */
export function describeOrigin(
  origin: { source?: string; import_id?: number | null; user_id?: number | null },
  me: number | undefined,
): string {
  const parts = [sourceLabel(origin.source)];
  if (origin.import_id) parts.push(`import #${origin.import_id}`);
  if (origin.user_id) parts.push(origin.user_id === me ? "by you" : `by user #${origin.user_id}`);
  return parts.join(", ");
}

export function provenanceWhen(provenance: Provenance | undefined): string {
  return provenance?.at ? ago(provenance.at) : "—";
}

/** A version's images ([src, position, alt]) or specifications ([key, values]) as text. */
function formatListField(field: string, value: unknown): string | null {
  if (!Array.isArray(value) || !value.every(Array.isArray)) return null;
  const items = value as unknown[][];
  if (!items.length) return "(none)";
  if (field === "images")
    return items
      .map(
        ([src, position, alt]) =>
          `${String(position)}. ${String(src)}${alt ? ` (${String(alt)})` : ""}`,
      )
      .join("; ");
  if (field === "specifications")
    return items.map(([key, values]) => `${String(key)}: ${formatValue(values)}`).join("; ");
  return null;
}

/** Any catalog value as one line of text (`field` reads images and specifications). */
export function formatValue(value: unknown, field?: string): string {
  const listed = field ? formatListField(field, value) : null;
  if (listed !== null) return listed;
  if (value === null || value === undefined || value === "") return "(empty)";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value) && value.every((item) => typeof item !== "object" || item === null)) {
    return value.length ? value.map(String).join(", ") : "(none)";
  }
  if (typeof value === "object" && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.every(([, item]) => typeof item !== "object")) {
      return entries.length ? entries.map(([k, v]) => `${k}: ${String(v)}`).join(", ") : "(none)";
    }
  }
  return JSON.stringify(value);
}

/** Text of an HTML description, for a short preview (never rendered as HTML). */
export function plainText(html: string): string {
  const doc = new DOMParser().parseFromString(html, "text/html");
  return (doc.body.textContent ?? "").replace(/\s+/g, " ").trim();
}
