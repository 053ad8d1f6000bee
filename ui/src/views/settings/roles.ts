// Staff roles as the settings page offers them.
import type { Session, StaffUser, StaffUserChange } from '../../api'

export type StaffRole = Session['role']

export const STAFF_ROLES: Record<StaffRole, string> = {
  center_staff: '中心工作人员',
  supervisor_staff: '行政监督部门',
  supervisor: '投诉处理',
  admin: '系统管理员',
}

/** Only what the admin changed is sent; `null` when nothing was. */
export function changeOf(user: StaffUser, role: StaffRole, active: boolean): StaffUserChange | null {
  const change: StaffUserChange = { reset_password: false }
  if (role !== user.role) change.role = role
  if (active !== user.active) change.active = active
  return change.role === undefined && change.active === undefined ? null : change
}
