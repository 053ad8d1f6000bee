/** Where a kind of task is worked on, when it has its own page (the
 *  project kinds list their projects on the workbench instead). */
export function taskLink(kind: string): string | null {
  const pages: Record<string, string> = {
    failed_pushes: '/pushes',
    rejects: '/import',
    complaints_overdue: '/complaints',
    complaints_open: '/complaints',
  }
  return pages[kind] ?? null
}
