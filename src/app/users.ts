/**
 * Users and tokens: creating and disabling users, their API tokens (minted, listed, revoked) and
 * emergency access — every change audited by the stores it goes through (`access/*-store.ts`).
 * Who may do which is the face's to check (the server's roles); these are the use cases.
 */
import type { Kysely } from 'kysely'
import type { Database } from '../store/tables.ts'
import type { Role } from './access/permissions.ts'
import {
  listTokens,
  mintToken,
  revokeToken,
  type TokenLifetime,
  tokenExpiry,
  tokenOwner,
} from './access/tokens-store.ts'
import {
  type Actor,
  bootstrapAdmin,
  createUser,
  endElevation,
  grantElevation,
  listUsers,
  setUserDisabled,
  userRole,
} from './access/users-store.ts'

/** The users of an application (see the module comment). */
export class Users {
  private readonly db: Kysely<Database>

  constructor(db: Kysely<Database>) {
    this.db = db
  }

  /** The first start: creates `admin` with a token (returned once) when there is no user yet. */
  bootstrapAdmin(maxTokenDays: number | undefined) {
    return bootstrapAdmin(this.db, { maxTokenDays })
  }

  /** Every user, by name. */
  list() {
    return listUsers(this.db)
  }

  /** A user's role; undefined when there is no such user. */
  role(name: string) {
    return userRole(this.db, name)
  }

  /** Creates a user; an existing name is a conflict. */
  create(name: string, role: Role, by: Actor) {
    return createUser(this.db, name, role, by)
  }

  /** Disables or enables a user (a disabled user's tokens and sessions stop working). */
  setDisabled(name: string, disabled: boolean, by: Actor) {
    return setUserDisabled(this.db, name, disabled, by)
  }

  /** A user's tokens, newest first. */
  tokens(user: string) {
    return listTokens(this.db, user)
  }

  /** Who owns a token; undefined when there is none. */
  tokenOwner(id: string) {
    return tokenOwner(this.db, id)
  }

  /**
   * Mints a token for `user`, expiring as asked within `maxTokenDays` (the longest a token may
   * last here, when set); the secret is in the result, once.
   */
  mintToken(
    user: string,
    label: string,
    lifetime: TokenLifetime,
    maxTokenDays: number | undefined,
    by: Actor,
  ) {
    return mintToken(this.db, user, label, by, { expiresAt: tokenExpiry(lifetime, maxTokenDays) })
  }

  /** Revokes a token. */
  revokeToken(id: string, by: Actor) {
    return revokeToken(this.db, id, by)
  }

  /** Grants a user emergency admin rights for a while, with a reason. */
  grantElevation(user: string, request: { reason: string; minutes: number }, by: Actor) {
    return grantElevation(this.db, user, request, by)
  }

  /** Ends a user's emergency access. */
  endElevation(user: string, by: Actor) {
    return endElevation(this.db, user, by)
  }
}
