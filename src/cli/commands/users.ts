/**
 * `flotilla users list|token|disable|enable`: the server's users, managed with direct access to
 * the store (its folder, or `FLOTILLA_DATABASE_URL`) rather than through the API — while a server
 * holds the embedded store, the command runs in it with the folder's credential. It is the way
 * back in when the admin token is lost — the API's own way to mint a token needs one. Whoever can
 * read the store can read every row of it already, as with `vault operator` or `gitlab-rails`:
 * the command adds no power, and every change is audited as this command (`cli:<OS user>`).
 */
import type { Actor } from '../../app/access/users-store.ts'
import { withApplication } from '../application.ts'
import type { UsersListOptions, UsersSwitchOptions, UsersTokenOptions } from '../declarations.ts'
import type { CliIo } from '../io.ts'
import { cliOperator } from '../operator.ts'
import { serverSettingsFromEnv } from '../server-settings.ts'

/** Who a change is audited as: the operator of the command (`FLOTILLA_ACTOR`, else `cli:<OS user>`). */
function actor(io: CliIo): Actor {
  const { actor: name, source } = cliOperator(io)
  return { name, source }
}

/** `flotilla users list`: every user with role and state. */
export async function usersListCommand(options: UsersListOptions, io: CliIo): Promise<number> {
  return withApplication(options, io, async (app) => {
    const users = await app.users.list()
    if (options.format === 'json') {
      io.stdout(`${JSON.stringify({ users }, null, 2)}\n`)
      return 0
    }
    if (users.length === 0) {
      io.stdout('No users yet: the first start of the server (flotilla serve, npm start) creates admin.\n')
      return 0
    }
    const width = Math.max(...users.map((u) => u.name.length))
    for (const user of users) {
      const state = user.disabledAt
        ? `disabled ${user.disabledAt.toISOString()} by ${user.disabledBy ?? '?'}`
        : 'enabled'
      io.stdout(`${user.name.padEnd(width)}  ${user.role.padEnd(8)}  ${state}\n`)
    }
    return 0
  })
}

/** `flotilla users token USER`: mints a token and prints its secret, once. */
export async function usersTokenCommand(
  user: string,
  options: UsersTokenOptions,
  io: CliIo,
): Promise<number> {
  const { maxTokenDays } = serverSettingsFromEnv(process.env)
  return withApplication(options, io, async (app) => {
    const minted = await app.users.mintToken(
      user,
      options.label,
      { expiresInDays: options.expiresIn },
      maxTokenDays,
      actor(io),
    )
    if (options.format === 'json') {
      io.stdout(`${JSON.stringify({ user, ...minted }, null, 2)}\n`)
      return 0
    }
    const expiry = minted.expiresAt ? `expires ${minted.expiresAt.toISOString()}` : 'does not expire'
    io.stdout(
      `Token ${minted.id} for ${user} (${expiry}; shown once, only a hash is stored):\n${minted.token}\n`,
    )
    return 0
  })
}

/** `flotilla users disable USER` and `flotilla users enable USER`. */
export async function usersSwitchCommand(
  action: 'disable' | 'enable',
  user: string,
  options: UsersSwitchOptions,
  io: CliIo,
): Promise<number> {
  return withApplication(options, io, async (app) => {
    await app.users.setDisabled(user, action === 'disable', actor(io))
    io.stdout(
      action === 'disable'
        ? `Disabled ${user}: their tokens and portal sessions no longer work.\n`
        : `Enabled ${user}.\n`,
    )
    return 0
  })
}
