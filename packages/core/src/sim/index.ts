// Filled in by the sim work; re-exported from ../index.ts.
export {};
