import { resolve } from "node:path";

/** This checkout's root. */
export const REPO_ROOT = resolve(__dirname, "..", "..");
