import type { DispatchConfig, SmsProvider } from '../../api'

/**
 * A new SMS provider of this kind, as the backend starts one (`starting`),
 * named so no other has its name (secrets are kept by name).
 */
export function newProvider(kind: SmsProvider['kind'], existing: SmsProvider[], starting: SmsProvider[]): SmsProvider {
  const from = starting.find((p) => p.kind === kind)
  if (!from) throw new Error(`没有 ${kind} 类服务商的初始配置`)
  const p = copyOf(from)
  let name = from.name
  for (let i = 2; existing.some((e) => e.name === name); i++) name = `${from.name}${i}`
  p.name = name
  return p
}

/** A deep copy of plain configuration data (also of Vue's reactive proxies, which structuredClone refuses). */
export function copyOf<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T
}

/** Move the provider at `i` by `by` places (the order is the failover order). */
export function move<T>(list: T[], i: number, by: number): void {
  const j = i + by
  if (j < 0 || j >= list.length) return
  const [x] = list.splice(i, 1)
  list.splice(j, 0, x)
}

/** The text saved: blank optional fields left out, two-space indented. */
export function configText(c: DispatchConfig): string {
  return JSON.stringify(
    c,
    (key, v) => ((key === 'username' || key === 'ca_file') && (v === '' || v === null) ? undefined : v),
    2,
  )
}
