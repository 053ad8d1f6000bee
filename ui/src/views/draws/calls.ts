import type { CallView, Tally } from '../../api'

/** The tag colour of a call's state. */
export function stateType(state: string): 'success' | 'warning' | 'danger' | 'info' | 'primary' {
  switch (state) {
    case '已签到':
      return 'success'
    case '确认参加':
      return 'primary'
    case '待答复':
      return 'warning'
    default:
      return 'danger'
  }
}

/** Who a call reached, as far as the viewer may know. */
export function who(c: CallView): string {
  return c.expert ? `${c.expert.name}（${c.expert.id}）` : '（身份保密）'
}

/** The line under the counts when a specialty is short. */
export function shortLine(tally: Tally[]): string {
  const short = tally.filter((t) => t.short > 0)
  return short.map((t) => `专业 ${t.code} 缺 ${t.short} 名`).join('，')
}
