export { interpolate, renderString, evaluate, InterpolationError } from './interpolate.js';
export type { DataPath, InterpolationErrorCode, Lookup } from './interpolate.js';
export { findReferences } from './references.js';
export type { FoundReference, TemplateProblem } from './references.js';
export { parseTemplate, hasInterpolation, referenceName, TemplateSyntaxError } from './template.js';
export type { Reference, TemplatePart } from './template.js';
export { SCOPE_NAMES, RUN_FIELDS, TARGET_FIELDS, ACCOUNT_FIELDS, accountsScope } from './scopes.js';
export type { Scopes, ScopeName, RunScope, AccountScope, TargetScope } from './scopes.js';
