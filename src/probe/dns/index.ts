export { createDnsClient, DEFAULT_DNS_TIMEOUT_MS, DEFAULT_DNS_TRIES, type DnsClient, type DnsClientOptions, type MxRecord, type SrvRecord } from './client.js';
export { DnsLookupError, isDnsLookupError, type DnsFailureKind } from './errors.js';
export { lookupDomainRecords, type LookupOptions } from './records.js';
export { rawQuery, DEFAULT_RAW_QUERY_LIMITS, type RawQueryLimits, type RawQueryOptions } from './raw-query.js';
export { parseDnsServer, formatDnsServer, type DnsServer } from './servers.js';
