// Filled in by the native work; re-exported from ../index.ts.
export {};
