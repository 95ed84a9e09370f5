// Figures of a push as a person reads them.

/** "45 s", "3 min 20 s", "1 h 5 min"; "—" when unknown. */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  const whole = Math.max(0, Math.round(seconds));
  if (whole < 60) return seconds > 0 && seconds < 1 ? "under 1 s" : `${whole} s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes} min ${whole % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function percent(share: number | null | undefined, digits = 1): string {
  if (share === null || share === undefined || !Number.isFinite(share)) return "—";
  return `${(share * 100).toFixed(digits)}%`;
}

export function whole(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "—";
  return Math.round(n).toLocaleString();
}

export function rate(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "—";
  return n >= 10 ? n.toFixed(0) : n.toFixed(1);
}

// The planner's kinds of work, in words.
const KINDS: Record<string, string> = {
  product_set: "Create or restructure products (productSet)",
  product_update: "Update product fields (productUpdate)",
  variants: "Update variants (productVariantsBulkUpdate)",
  tags_add: "Add tags (tagsAdd)",
  tags_remove: "Remove tags (tagsRemove)",
  metafields: "Set metafields (metafieldsSet)",
  inventory: "Set stock (inventorySetQuantities)",
  delete: "Delete products (productDelete)",
};

export function kindLabel(kind: string): string {
  const bulk = kind.endsWith("_bulk");
  const base = KINDS[bulk ? kind.slice(0, -5) : kind] ?? kind;
  return bulk ? `${base}, bulk` : base;
}

/** Short name of a kind for a worker card: "productSet". */
export function kindShort(kind: string): string {
  const label = KINDS[kind];
  const match = label ? /\(([^)]+)\)/.exec(label) : null;
  return match?.[1] ?? kind;
}

const STATES: Record<string, { label: string; color: string }> = {
  queued: { label: "Queued", color: "gray" },
  running: { label: "Running", color: "blue" },
  completed: { label: "Completed", color: "green" },
  completed_with_errors: { label: "Completed with errors", color: "orange" },
  failed: { label: "Failed", color: "red" },
  cancelled: { label: "Stopped", color: "yellow" },
  stopped: { label: "Stopped", color: "yellow" },
  stopping: { label: "Stopping", color: "yellow" },
};

export function stateBadge(state: string | null | undefined): { label: string; color: string } {
  if (!state) return { label: "Unknown", color: "gray" };
  return STATES[state] ?? { label: state.replace(/_/g, " "), color: "gray" };
}
