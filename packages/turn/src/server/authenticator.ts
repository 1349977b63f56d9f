import { checkRestUsername, type RestUsernameProblem, restPassword } from '../auth/rest-credentials.js';
import { longTermKey } from '../stun/integrity.js';

export type AuthenticationResult =
  | { ok: true; userId: string; key: Uint8Array }
  | { ok: false; problem: RestUsernameProblem | 'unknown-user' };

/** Turns a USERNAME (and REALM) into the long-term key that must have signed the request. */
export interface TurnAuthenticator {
  authenticate(username: string, realm: string, nowMs: number): AuthenticationResult;
}

/**
 * TURN REST credentials (coturn's `use-auth-secret`): the password is derived from the username,
 * so no user table exists and any server knowing the secret can check them. The expiry is checked
 * here, at Allocate; requests on an existing allocation use the key kept with it.
 */
export class RestSecretAuthenticator implements TurnAuthenticator {
  constructor(private readonly secret: string) {
    if (secret.length === 0) throw new RangeError('the TURN shared secret must not be empty');
  }

  authenticate(username: string, realm: string, nowMs: number): AuthenticationResult {
    const checked = checkRestUsername(username, nowMs);
    if (!checked.ok) return checked;
    return { ok: true, userId: checked.userId, key: longTermKey(username, realm, restPassword(this.secret, username)) };
  }
}
