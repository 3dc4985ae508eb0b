// Moved to src/core/diagnostics.ts and src/input/errors.ts. Kept only so
// src/runner, which another change is reworking at the same time, keeps
// compiling; the merge points its imports there and deletes this file.
export { LoadError } from '../core/diagnostics.js';
export { formatDiagnostic } from '../input/errors.js';
