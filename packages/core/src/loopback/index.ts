// Filled in by the loopback work; re-exported from ../index.ts.
export {};
