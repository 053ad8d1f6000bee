/** Audit record kinds as staff read them. */
const KINDS: Record<string, string> = {
  'event.accepted': '接收事件',
  'user.added': '新增用户',
  'user.changed': '修改用户',
  'user.login': '登录',
  'user.login_failed': '登录失败',
  'user.locked': '账户锁定',
  'user.password_changed': '修改密码',
  'setting.changed': '修改设置',
  'member.password_issued': '发放会员密码',
  'push.status': '推送状态变更',
}

export function kindName(kind: string): string {
  return KINDS[kind] ?? kind
}

/** Where a kind of task is worked on, when it has its own page (the
 *  project kinds list their projects on the workbench instead). */
export function taskLink(kind: string): string | null {
  return ({ failed_pushes: '/pushes', rejects: '/import' } as Record<string, string>)[kind] ?? null
}
