// Where the repository under test is.
import path from "node:path";

/** The repository root (the CLI runs here unless a test gives another working directory). */
export const REPO = path.resolve(import.meta.dirname, "../..");
