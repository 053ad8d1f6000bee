import type { Session } from '../api'

export type Role = Session['role']

export interface MenuItem {
  path: string
  title: string
  roles: Role[]
}

const ALL: Role[] = ['center_staff', 'supervisor_staff', 'supervisor', 'admin']

/** The side menu; each page is listed for the roles that work in it. */
export const MENUS: MenuItem[] = [
  { path: '/workbench', title: '工作台', roles: ALL },
  { path: '/projects', title: '项目', roles: ALL },
  { path: '/pushes', title: '推送记录', roles: ALL },
  { path: '/inbox', title: '消息', roles: ['center_staff', 'supervisor_staff'] },
  { path: '/import', title: '导入', roles: ['center_staff', 'admin'] },
  { path: '/audit', title: '审计', roles: ALL },
  { path: '/settings', title: '设置', roles: ['admin'] },
]

export function menusFor(role: Role): MenuItem[] {
  return MENUS.filter((m) => m.roles.includes(role))
}
