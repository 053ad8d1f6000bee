import type { Action } from '../../api'
import type { Role } from '../../router/menus'

export type ActionType = Action['type']

export interface ActionSpec {
  type: ActionType
  title: string
  roles: Role[]
  /** Which fields the form asks for. */
  stage?: boolean
  url?: boolean
  review?: boolean
  bidder?: boolean
  winner?: boolean
}

/** The actions on a project, and who does them (the backend checks again). */
export const PROJECT_ACTIONS: ActionSpec[] = [
  { type: 'project.bidder_added', title: '新增投标人', roles: ['center_staff'], bidder: true },
  { type: 'filing.submitted', title: '登记备案', roles: ['center_staff'], stage: true, winner: true },
  { type: 'filing.reviewed', title: '备案审核', roles: ['supervisor_staff'], stage: true, review: true },
  { type: 'materials.submitted', title: '查验发布资料', roles: ['center_staff'], stage: true },
  { type: 'notice.published', title: '发布公告', roles: ['center_staff'], stage: true, url: true },
  { type: 'deposit.refunded', title: '退还保证金', roles: ['center_staff'] },
]

export function actionsFor(role: Role | undefined): ActionSpec[] {
  return role ? PROJECT_ACTIONS.filter((a) => a.roles.includes(role)) : []
}

export interface ActionForm {
  stage: string
  round: number
  winner: string
  outcome: 'passed' | 'rejected'
  opinion: string
  url: string
  bidder: { id: string; name: string; phone: string; email: string; prefer: string }
}

export function emptyForm(): ActionForm {
  return { stage: '', round: 1, winner: '', outcome: 'passed', opinion: '', url: '', bidder: { id: '', name: '', phone: '', email: '', prefer: '' } }
}

const opt = (s: string) => (s.trim() ? s.trim() : undefined)

/** The form as the intake event it becomes. */
export function toAction(type: ActionType, project: string, f: ActionForm): Action {
  const round = f.stage === 'correction' ? f.round : undefined
  switch (type) {
    case 'project.bidder_added':
      return { type, project, bidder: { id: f.bidder.id.trim(), name: f.bidder.name.trim(), phone: opt(f.bidder.phone), email: opt(f.bidder.email), prefer: opt(f.bidder.prefer) } }
    case 'filing.submitted':
      return { type, project, stage: f.stage, round, winner: f.stage === 'award' ? opt(f.winner) : undefined }
    case 'filing.reviewed':
      return { type, project, stage: f.stage, round, outcome: f.outcome, opinion: f.outcome === 'rejected' ? opt(f.opinion) : undefined }
    case 'materials.submitted':
      return { type, project, stage: f.stage, round }
    case 'notice.published':
      return { type, project, stage: f.stage, round, url: f.url.trim() }
    case 'deposit.refunded':
      return { type, project }
    default:
      throw new Error(`不支持的办理事项：${type}`)
  }
}
