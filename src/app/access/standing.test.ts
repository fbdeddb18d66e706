import { describe, expect, it } from 'vitest'
import { testBackends, useTestStore } from '../../store/test-store.ts'
import { mintToken, tokenUser } from './tokens-store.ts'
import { activeElevation, createUser, endElevation, grantElevation, userRole } from './users-store.ts'

const by = { name: 'admin', source: 'test' }

describe.each(testBackends)("a token's standing, read with it, on %s", (backend) => {
  const test = useTestStore(backend)

  it('is the role and the active elevation the separate reads give, and follows a grant and its end', async () => {
    const { db } = test.store
    await createUser(db, 'erin', 'member', by)
    const { token } = await mintToken(db, 'erin', 'laptop', by)
    expect((await tokenUser(db, token))?.standing).toEqual({ role: 'member', elevation: null })

    await grantElevation(db, 'erin', { reason: 'incident 42', minutes: 30 }, by)
    const standing = (await tokenUser(db, token))!.standing
    expect(standing).toEqual({
      role: await userRole(db, 'erin'),
      elevation: await activeElevation(db, 'erin'),
    })
    expect(standing.elevation).toMatchObject({ reason: 'incident 42', grantedBy: 'admin' })
    expect(standing.elevation!.until).toBeInstanceOf(Date)

    await endElevation(db, 'erin', { name: 'erin', source: 'test' })
    expect((await tokenUser(db, token))?.standing).toEqual({ role: 'member', elevation: null })
  })
})
