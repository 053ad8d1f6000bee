/** How a party asked to be reached (3.4), as the backend names it and staff read it. */
export const PREFER_OPTIONS = [
  { value: '', label: '按中心规则' },
  { value: 'sms', label: '短信' },
  { value: 'email', label: '电子邮件' },
  { value: 'both', label: '短信和电子邮件' },
  { value: 'none', label: '仅接收必达通知' },
] as const

/** What the center does for a party with both a phone and an email. */
export const BOTH_OPTIONS = PREFER_OPTIONS.filter((o) => o.value === 'sms' || o.value === 'email' || o.value === 'both')

export function preferLabel(prefer: string | null | undefined): string {
  return PREFER_OPTIONS.find((o) => o.value === (prefer ?? ''))?.label ?? prefer ?? ''
}

/** The staff roles a work group can follow. */
export const GROUP_ROLES = [
  { value: 'center_staff', label: '中心工作人员' },
  { value: 'supervisor_staff', label: '监管工作人员' },
] as const
