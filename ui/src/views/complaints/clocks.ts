// How a complaint's clocks read on the board and its page.
import type { ComplaintClock, ComplaintItem } from '../../api'
import { nameOf } from '../../stores/labels'

/** One clock as staff read it: `受理决定 剩 2 个工作日`, `处理决定 逾期 3 个工作日`, `… 今日到期`. */
export function clockText(c: ComplaintClock): string {
  const what = nameOf('complaint_limits', c.limit)
  if (c.state.state === 'overdue') return `${what}逾期 ${c.state.by} 个工作日`
  return c.state.left === 0 ? `${what}今日到期` : `${what}剩 ${c.state.left} 个工作日`
}

/** The board's first column: the most urgent clock, or how long a closed complaint took. */
export function urgentText(c: ComplaintItem): string {
  const first = c.clocks[0]
  if (first) return clockText(first)
  return c.state === 'refused' ? `不予受理（用时 ${c.took ?? 0} 个工作日）` : `已办结（用时 ${c.took ?? 0} 个工作日）`
}

export function clockType(c: ComplaintClock | undefined): 'danger' | 'warning' | 'info' | 'success' {
  if (!c) return 'success'
  if (c.state.state === 'overdue') return 'danger'
  return c.state.left <= 1 ? 'warning' : 'info'
}

export function stateType(state: ComplaintItem['state']): 'danger' | 'warning' | 'info' | 'success' | 'primary' {
  switch (state) {
    case 'lodged':
      return 'warning'
    case 'accepted':
    case 'investigating':
      return 'primary'
    case 'refused':
      return 'info'
    default:
      return 'success'
  }
}
