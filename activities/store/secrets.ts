import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Encrypts NetBox tokens and webhook secrets at rest (AES-256-GCM).
 * The key comes from NPS_SECRET_KEY in production; the embedded default keeps a generated
 * key file beside the database, readable by its owner only.
 */
export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  static fromBase64(keyBase64: string): SecretBox {
    const key = Buffer.from(keyBase64, 'base64');
    if (key.length !== 32) {
      throw new Error('NPS_SECRET_KEY must be 32 random bytes in base64 (e.g. `openssl rand -base64 32`)');
    }
    return new SecretBox(key);
  }

  /** Uses `keyBase64` when given, else the key file in dataDir, creating it on first use. */
  static load(dataDir: string, keyBase64?: string): SecretBox {
    if (keyBase64) return SecretBox.fromBase64(keyBase64);
    const file = path.join(dataDir, 'secret.key');
    if (!fs.existsSync(file)) {
      fs.mkdirSync(dataDir, { recursive: true });
      try {
        fs.writeFileSync(file, crypto.randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    return SecretBox.fromBase64(fs.readFileSync(file, 'utf8').trim());
  }

  encrypt(plain: string): string {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join(':');
  }

  decrypt(sealed: string): string {
    const [version, iv, tag, body] = sealed.split(':');
    if (version !== 'v1' || !iv || !tag || body === undefined) throw new Error('stored secret has an unknown format');
    try {
      const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      throw new Error(
        'a stored secret cannot be decrypted: NPS_SECRET_KEY (or .data/secret.key) is not the key it was saved with',
      );
    }
  }
}
