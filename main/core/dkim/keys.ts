/*
 * DKIM keys: generateDkimKey() makes an RSA 2048 or Ed25519 key pair (PKCS#8 PEM private
 * key), publicKeyTag() derives the `p=` value from a private key (RSA: base64 of the
 * SubjectPublicKeyInfo DER, as RFC 6376 publishes it; Ed25519: base64 of the raw 32-octet key,
 * RFC 8463), and dkimRecord() builds the TXT record to publish (name, one-string value, and the
 * zone-file line split into 255-octet strings). Throws on a private key node:crypto cannot
 * read or of another type; nothing else fails.
 */
import crypto from 'node:crypto';
import type { DkimAlgorithm, DkimRecord } from '../../shared/deliverability.js';
import { dkimRecordName, dkimRecordOf, quotedStrings } from '../../shared/dkim-record.js';

export interface GeneratedKey {
  algorithm: DkimAlgorithm;
  privateKey: string;
  /** The `p=` tag value. */
  publicKey: string;
}

export function generateDkimKey(algorithm: DkimAlgorithm): GeneratedKey {
  const pair =
    algorithm === 'rsa'
      ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 })
      : crypto.generateKeyPairSync('ed25519');
  const privateKey = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { algorithm, privateKey, publicKey: publicKeyTag(privateKey).publicKey };
}

/** The algorithm and `p=` value of a private key (PEM). */
export function publicKeyTag(privatePem: string): { algorithm: DkimAlgorithm; publicKey: string } {
  const priv = crypto.createPrivateKey(privatePem);
  const pub = crypto.createPublicKey(priv);
  if (priv.asymmetricKeyType === 'rsa') {
    return { algorithm: 'rsa', publicKey: pub.export({ type: 'spki', format: 'der' }).toString('base64') };
  }
  if (priv.asymmetricKeyType === 'ed25519') {
    const jwk = pub.export({ format: 'jwk' }) as { x: string };
    return { algorithm: 'ed25519', publicKey: Buffer.from(jwk.x, 'base64url').toString('base64') };
  }
  throw new Error(`DKIM keys must be RSA or Ed25519, not ${priv.asymmetricKeyType}`);
}

export { dkimRecordName, quotedStrings };

export function dkimRecord(domain: string, selector: string, privatePem: string): DkimRecord {
  const { algorithm, publicKey } = publicKeyTag(privatePem);
  return dkimRecordOf(domain, selector, algorithm, publicKey);
}
