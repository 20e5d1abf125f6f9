// Library entry: the public API of platformctl (the CLI is built on exactly these functions).
export { loadModules, findManifests, readManifest } from "./catalog/load-modules.js";
export { validateCatalog, validateManifest, dependencyOrder } from "./manifest/validate.js";
export type { CatalogResult, ManifestResult, ManifestSource, ValidateOptions } from "./manifest/validate.js";
export { ModuleSchema, PATTERNS, EXPECTED_STATES, RESTART_POLICIES } from "./manifest/schema.js";
export type { ModuleManifest, ModuleManifestInput } from "./manifest/schema.js";
export type { Module, Service, Mount, Healthcheck, PortBinding, ExpectedState, RestartPolicy, SmokeProbe } from "./manifest/module.js";
export { PROBLEM_CODES, formatProblem } from "./manifest/problems.js";
export type { Problem, ProblemCode, ProblemLayer } from "./manifest/problems.js";
export { parseInterpolation, resolveInterpolation, referencedNames } from "./manifest/interpolation.js";
export { EXIT, PlatformError, UsageError, InternalError, exitForSignal } from "./errors.js";
export { main } from "./cli/main.js";
