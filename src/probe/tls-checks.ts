import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import type { TlsInfo } from '../transport/index.js';
import { finding, type Finding, type Where } from './findings.js';

/**
 * The certificate findings every TLS port gets from the one handshake the
 * port probe makes anyway (verification is off on that connection so the
 * probe can go on and report the rest; the verdict is computed all the same):
 * an expired certificate, an untrusted chain, a name the certificate does not
 * carry. The deeper TLS facts (versions offered, key, OCSP, a missing
 * intermediate) need handshakes of their own and come from the TLS facts
 * module through port-probe's `inspectTls`.
 */
export function certificateFindings(info: TlsInfo, where: Where): Finding[] {
  const findings: Finding[] = [];
  const reason = info.authorizationError;
  if (!info.authorized && reason !== undefined) {
    if (reason === 'CERT_HAS_EXPIRED') {
      findings.push(
        finding('tls-expired', where, `${reason}: valid until ${info.peer?.validTo ?? 'unknown'}`, { validTo: info.peer?.validTo ?? 'an unknown date' }),
      );
    } else {
      findings.push(finding('tls-untrusted', where, reason, { reason }));
    }
  }
  const sans = info.peer?.subjectAltNames ?? [];
  const mismatch =
    info.peer === undefined ? undefined : checkServerIdentity(info.checkedName, { subjectaltname: sans.join(', '), subject: {} } as PeerCertificate);
  if (mismatch !== undefined) {
    const names = sans.map((s) => s.replace(/^(?:DNS|IP Address):/, '')).join(', ') || (info.peer?.subject ?? 'no name');
    findings.push(finding('tls-name-mismatch', where, `${mismatch.message} (subjectAltName: ${sans.join(', ') || 'none'})`, { name: info.checkedName, names }));
  }
  return findings;
}
