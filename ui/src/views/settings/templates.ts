import type { TemplatePreview } from '../../api'

/** A rule matches a filter by its clause as typed (`4.4` finds 4.4.1–4.4.4,
 *  `4.1.2` finds 4.1.2a–c, and `4.1` never finds 4.10) or by its title. */
export function matches(p: TemplatePreview, filter: string): boolean {
  const f = filter.trim()
  if (!f) return true
  if (p.title.includes(f)) return true
  if (!p.clause.startsWith(f)) return false
  const rest = p.clause.slice(f.length)
  return rest === '' || rest.startsWith('.') || /^[a-z]/.test(rest)
}
