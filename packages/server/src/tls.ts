import { readFile } from 'node:fs/promises';
import { generate } from 'selfsigned';
import type { Config } from './config.js';
import { ConfigError } from './errors.js';
import type { Logger } from './logger.js';
import { certificateAddresses } from './network.js';

export interface TlsCredentials {
  readonly cert: string;
  readonly key: string;
}

/**
 * The certificate and key to serve HTTPS with: from the configured PEM files, or a self-signed
 * pair made in memory (never written to disk) for `--https` on a LAN.
 */
export async function loadTlsCredentials(config: Readonly<Config>, logger: Logger): Promise<TlsCredentials> {
  if (config.tlsCertFile !== null && config.tlsKeyFile !== null) {
    const [cert, key] = await Promise.allSettled([
      readFile(config.tlsCertFile, 'utf8'),
      readFile(config.tlsKeyFile, 'utf8'),
    ]);
    const problems = [
      ...unreadable(cert, '--tls-cert', config.tlsCertFile),
      ...unreadable(key, '--tls-key', config.tlsKeyFile),
    ];
    if (cert.status === 'rejected' || key.status === 'rejected') throw new ConfigError(problems);
    return { cert: cert.value, key: key.value };
  }
  const { dns, ips } = certificateAddresses(config.host);
  const now = new Date();
  const pems = await generate([{ name: 'commonName', value: 'Convene (self-signed)' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: new Date(now.getTime() + 365 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          ...dns.map((value) => ({ type: 2 as const, value })),
          ...ips.map((ip) => ({ type: 7 as const, ip })),
        ],
      },
    ],
  });
  logger.info({ fingerprint: pems.fingerprint, names: [...dns, ...ips] }, 'generated a self-signed certificate');
  return { cert: pems.cert, key: pems.private };
}

function unreadable(result: PromiseSettledResult<string>, flag: string, path: string): string[] {
  if (result.status === 'fulfilled') return [];
  const error: unknown = result.reason;
  const reason = error instanceof Error && 'code' in error ? String(error.code) : String(error);
  return [`${flag}: cannot read ${path} (${reason})`];
}
