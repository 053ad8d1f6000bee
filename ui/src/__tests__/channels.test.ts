import { describe, expect, it } from 'vitest'
import { configText, emptyConfig, move, newProvider, parseConfig } from '../views/settings/channels'

describe('the channel form', () => {
  it('names a new provider so no secret is shared by two', () => {
    const list = [newProvider('gateway', [])]
    list.push(newProvider('gateway', list))
    list.push(newProvider('aliyun', list))
    expect(list.map((p) => p.name)).toEqual(['gateway', 'gateway2', 'aliyun'])
  })

  it('moves a provider within the failover order, not past its ends', () => {
    const l = ['a', 'b', 'c']
    move(l, 2, -1)
    expect(l).toEqual(['a', 'c', 'b'])
    move(l, 0, -1)
    expect(l).toEqual(['a', 'c', 'b'])
  })

  it('reads saved text, and says what is wrong with text that is not a configuration', () => {
    expect(parseConfig('')).toEqual(emptyConfig())
    expect(parseConfig('{"sms": [')).toMatch(/不是有效的 JSON/)
    expect(parseConfig('[1]')).toBe('配置须为一个 JSON 对象')
    const c = parseConfig('{"dingtalk": {"webhook": "https://x"}, "retry": {"max_attempts": 3}}')
    expect(typeof c).toBe('object')
    if (typeof c === 'object') {
      expect(c.sms).toEqual([])
      expect(c.retry).toEqual({ max_attempts: 3, first_retry_secs: 5, max_retry_secs: 1800, timeout_ms: 10000 })
      expect(c.sending).toEqual({ batch: 256, concurrency: 64, ahead: 1 })
    }
    const saved = parseConfig('{"sending": {"batch": 1024, "concurrency": 128, "lanes": 2}}')
    expect(typeof saved === 'object' && saved.sending).toEqual({ batch: 1024, concurrency: 128, ahead: 2 })
  })

  it('leaves blank optional mail fields out of the saved text', () => {
    const c = emptyConfig()
    c.email = { host: 'smtp.x.cn', port: 587, security: 'starttls', username: '', from: 'a@x.cn', ca_file: '' }
    const saved = JSON.parse(configText(c))
    expect(saved.email).toEqual({ host: 'smtp.x.cn', port: 587, security: 'starttls', from: 'a@x.cn' })
    expect(parseConfig(configText(c))).toMatchObject({ email: { host: 'smtp.x.cn' } })
  })
})
