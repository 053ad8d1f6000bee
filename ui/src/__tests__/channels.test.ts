import { describe, expect, it } from 'vitest'
import { reactive } from 'vue'
import type { SmsProvider } from '../api'
import { configText, move, newProvider } from '../views/settings/channels'

/** As the backend starts each kind (ChannelSettings.starting.sms). */
const STARTING: SmsProvider[] = [
  { kind: 'gateway', name: 'gateway', url: '', key_id: '' },
  { kind: 'aliyun', name: 'aliyun', endpoint: 'https://dysmsapi.aliyuncs.com/', access_key_id: '', sign_name: '', template_code: '' },
]

describe('the channel form', () => {
  it('starts a provider as the backend does, named so no secret is shared by two', () => {
    // From the settings as the page holds them: reactive.
    const list = [newProvider('gateway', [], reactive(STARTING))]
    list.push(newProvider('gateway', list, STARTING))
    list.push(newProvider('aliyun', list, STARTING))
    expect(list.map((p) => p.name)).toEqual(['gateway', 'gateway2', 'aliyun'])
    expect(list[2]).toMatchObject({ endpoint: 'https://dysmsapi.aliyuncs.com/' })
    list[0].name = 'changed'
    expect(STARTING[0].name).toBe('gateway')
  })

  it('moves a provider within the failover order, not past its ends', () => {
    const l = ['a', 'b', 'c']
    move(l, 2, -1)
    expect(l).toEqual(['a', 'c', 'b'])
    move(l, 0, -1)
    expect(l).toEqual(['a', 'c', 'b'])
  })

  it('leaves blank optional mail fields out of the saved text', () => {
    const c = {
      sms: [],
      retry: { max_attempts: 6, first_retry_secs: 5, max_retry_secs: 1800, timeout_ms: 10000 },
      sending: { batch: 256, concurrency: 64, ahead: 1 },
      email: { host: 'smtp.x.cn', port: 587, security: 'starttls' as const, username: '', from: 'a@x.cn', ca_file: '' },
    }
    const saved = JSON.parse(configText(c))
    expect(saved.email).toEqual({ host: 'smtp.x.cn', port: 587, security: 'starttls', from: 'a@x.cn' })
  })
})
