export { Pop3Client, type Pop3ConnectOptions, type Pop3LoginMethod } from './client.js';
export { Pop3ProtocolError, Pop3ReplyError, type Pop3ProtocolErrorCode } from './errors.js';
export { readBody, readListing } from './multiline.js';
export { apopTimestamp, parseScanListing, parseStatusLine, parseUidListing, type Pop3StatusLine } from './reply.js';
export { NotOwnMessageError, Pop3Session, type OwnMessage } from './session.js';
export { pop3Module } from './module.js';
