// The checklist as staff fill it in on the 查验 page, and what keeps each
// verdict from being given yet (the backend checks the same again).

export interface CheckRow {
  item: string
  /** null: not checked yet. */
  ok: boolean | null
  remark: string
}

/** Why 查验通过 and 退回 cannot be pressed yet; null when they can. */
export function verdictBlocker(rows: CheckRow[], reason: string): { pass: string | null; returned: string | null; text: string } {
  const unchecked = rows.filter((r) => r.ok === null).length
  const failed = rows.filter((r) => r.ok === false)
  const unexplained = failed.filter((r) => !r.remark.trim()).length
  let pass: string | null = null
  if (failed.length) pass = `有 ${failed.length} 项不合格，只能退回`
  else if (unchecked) pass = `还有 ${unchecked} 项未查验`
  let returned: string | null = null
  if (unexplained) returned = `有 ${unexplained} 项不合格未写明问题`
  else if (!reason.trim()) returned = '退回须填写退回原因'
  const text = [pass, returned].filter((x) => x !== null).join('；')
  return { pass, returned, text }
}

/** Minutes as staff read a span: 45分钟, 3小时5分钟, 2天4小时. */
export function duration(minutes: number): string {
  if (minutes < 60) return `${minutes}分钟`
  const hours = Math.floor(minutes / 60)
  if (hours < 24) return minutes % 60 ? `${hours}小时${minutes % 60}分钟` : `${hours}小时`
  const days = Math.floor(hours / 24)
  return hours % 24 ? `${days}天${hours % 24}小时` : `${days}天`
}
