// The review's keyboard: j/k (or the arrows) move the focus, x selects, a approves, r rejects,
// ? lists the keys. Keys typed into a text field, a menu or with a modifier are left alone.
import { useEffect, useRef } from "react";

export interface ReviewShortcutHandlers {
  next: () => void;
  previous: () => void;
  toggle: () => void;
  approve: () => void;
  reject: () => void;
  help: () => void;
}

export const SHORTCUTS: { keys: string[]; what: string }[] = [
  { keys: ["j", "↓"], what: "Next change" },
  { keys: ["k", "↑"], what: "Previous change" },
  { keys: ["x"], what: "Select or unselect the focused change" },
  { keys: ["a"], what: "Approve the selection (or the focused change)" },
  { keys: ["r"], what: "Reject the selection (or the focused change)" },
  { keys: ["?"], what: "Show these shortcuts" },
];

const TEXT_INPUTS = new Set([
  "text",
  "search",
  "email",
  "number",
  "password",
  "tel",
  "url",
  "date",
  "datetime-local",
  "month",
  "time",
  "week",
]);

/** True while the person types: in a text box, a text area, a select or a menu's search. */
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement) return TEXT_INPUTS.has(target.type);
  return target.getAttribute("role") === "combobox";
}

/** Listens while `enabled` (not while a dialog is open). Handlers may change every render. */
export function useReviewShortcuts(handlers: ReviewShortcutHandlers, enabled: boolean) {
  const latest = useRef(handlers);
  latest.current = handlers;

  useEffect(() => {
    if (!enabled) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
      if (isTyping(event.target)) return;
      const actions: Record<string, (() => void) | undefined> = {
        j: latest.current.next,
        ArrowDown: latest.current.next,
        k: latest.current.previous,
        ArrowUp: latest.current.previous,
        x: latest.current.toggle,
        a: latest.current.approve,
        r: latest.current.reject,
        "?": latest.current.help,
      };
      const action = actions[event.key];
      if (!action) return;
      // The arrows belong to a focused radio group (a conflict's choices).
      const radio = event.target instanceof HTMLInputElement && event.target.type === "radio";
      if (radio && event.key.startsWith("Arrow")) return;
      event.preventDefault();
      action();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [enabled]);
}
