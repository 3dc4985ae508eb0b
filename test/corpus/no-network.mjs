// Loaded into the CLI child with `node --import` by the bad-input corpus test.
// Every TCP/TLS connection in Node (net.connect, tls.connect, nodemailer,
// imapflow) goes through net.Socket.prototype.connect; this records the attempt
// in the file named by MAILPROBE_CONNECT_LOG and refuses it. An empty (absent)
// log is the proof that the run never tried to connect anywhere, to any host.
import { appendFileSync } from 'node:fs';
import net from 'node:net';

const log = process.env.MAILPROBE_CONNECT_LOG;
if (!log) throw new Error('no-network.mjs needs MAILPROBE_CONNECT_LOG');
net.Socket.prototype.connect = function refusedConnect(...args) {
  // net.connect and tls.connect pass their normalized [options, callback] array as the first argument.
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  const where = typeof first === 'object' && first !== null ? `${first.host ?? ''}:${first.port ?? first.path ?? ''}` : String(first);
  appendFileSync(log, `connect ${where}\n`);
  throw new Error(`no-network hook: connect to ${where} refused`);
};
