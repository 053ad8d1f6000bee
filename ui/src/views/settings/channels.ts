import type { DispatchConfig, SmsProvider } from '../../api'

/** What a configuration starts with: no channel, the backend's retry defaults. */
export function emptyConfig(): DispatchConfig {
  return {
    sms: [],
    retry: { max_attempts: 6, first_retry_secs: 5, max_retry_secs: 1800, timeout_ms: 10000 },
    sending: { batch: 256, concurrency: 64, ahead: 1 },
  }
}

/** A new SMS provider of this kind, named so no other has its name (secrets are kept by name). */
export function newProvider(kind: SmsProvider['kind'], existing: SmsProvider[]): SmsProvider {
  const base = kind === 'gateway' ? 'gateway' : 'aliyun'
  let name = base
  for (let i = 2; existing.some((p) => p.name === name); i++) name = `${base}${i}`
  return kind === 'gateway'
    ? { kind, name, url: '', key_id: '' }
    : { kind, name, endpoint: 'https://dysmsapi.aliyuncs.com/', access_key_id: '', sign_name: '', template_code: '' }
}

/** Move the provider at `i` by `by` places (the order is the failover order). */
export function move<T>(list: T[], i: number, by: number): void {
  const j = i + by
  if (j < 0 || j >= list.length) return
  const [x] = list.splice(i, 1)
  list.splice(j, 0, x)
}

/**
 * The form's configuration from saved or typed text, or what is wrong with
 * the text. The backend checks every field; this only needs an object.
 */
export function parseConfig(text: string): DispatchConfig | string {
  if (!text.trim()) return emptyConfig()
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    return `不是有效的 JSON：${(e as Error).message}`
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return '配置须为一个 JSON 对象'
  const c = value as Partial<DispatchConfig>
  const empty = emptyConfig()
  // Settings saved before 2026-11-28 call `ahead` `lanes`.
  const { lanes, ...sending } = (c.sending ?? {}) as Partial<DispatchConfig['sending']> & { lanes?: number }
  return {
    ...c,
    sms: Array.isArray(c.sms) ? c.sms : [],
    retry: { ...empty.retry, ...c.retry },
    sending: { ...empty.sending, ...(lanes === undefined ? {} : { ahead: lanes }), ...sending },
  } as DispatchConfig
}

/** The text saved: blank optional fields left out, two-space indented. */
export function configText(c: DispatchConfig): string {
  return JSON.stringify(
    c,
    (key, v) => ((key === 'username' || key === 'ca_file') && (v === '' || v === null) ? undefined : v),
    2,
  )
}
