// Filled in by the xenstore work; re-exported from ../index.ts.
export {};
