// Moved to src/core/source.ts. Kept only so src/runner, which another change is
// reworking at the same time, keeps compiling; the merge points its imports at
// core and deletes this file.
export { formatPos } from '../core/source.js';
export type { SourcePos } from '../core/source.js';
