// Moved to src/input/issues.ts. Kept only so src/runner, which another change
// is reworking at the same time, keeps compiling; the merge points its imports
// there and deletes this file.
export { isPlainObject } from '../input/issues.js';
