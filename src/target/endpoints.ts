/** The endpoint vocabulary lives in src/core/protocols.ts; re-exported here for the target loader's callers. */
export { ENDPOINT_NAMES, ENDPOINT_PROTOCOL, PROTOCOL_NAMES, SECURITY_MODES, type EndpointName, type Security } from '../core/protocols.js';
