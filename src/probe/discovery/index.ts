/** Discovery over HTTPS for `mailprobe probe DOMAIN`: what domain-probe.ts calls. */
export { discover, type DiscoverOptions } from './discover.js';
export { DEFAULT_FETCH_TIMEOUTS, DEFAULT_MAX_BODY_BYTES, type FetchTimeouts } from './https-fetch.js';
