import type { Action, ActionKind, ActionOffer, Outcome, Stage } from '../../api'

/** What a form asks for besides a stage (the backend says which stages, and who may act). */
export interface Fields {
  url?: boolean
  review?: boolean
  bidder?: boolean
  winner?: boolean
}

const FIELDS: Partial<Record<ActionKind, Fields>> = {
  'project.bidder_added': { bidder: true },
  'filing.submitted': { winner: true },
  'filing.reviewed': { review: true },
  'notice.published': { url: true },
}

export function fieldsOf(kind: ActionKind): Fields {
  return FIELDS[kind] ?? {}
}

/** The actions a project's page offers as forms: a project is registered from
 * the list, and materials are verified on their own page (查验). */
export function projectActions(offers: ActionOffer[]): ActionOffer[] {
  return offers.filter((a) => a.type !== 'project.registered' && a.type !== 'materials.verified')
}

export interface ActionForm {
  stage: Stage | ''
  round: number
  winner: string
  outcome: Outcome
  opinion: string
  url: string
  bidder: { id: string; name: string; phone: string; email: string; prefer: string }
}

export function emptyForm(): ActionForm {
  return { stage: '', round: 1, winner: '', outcome: 'passed', opinion: '', url: '', bidder: { id: '', name: '', phone: '', email: '', prefer: '' } }
}

const opt = (s: string) => (s.trim() ? s.trim() : undefined)

/** The form as the intake event it becomes (a stage is asked for before it is sent). */
export function toAction(type: ActionKind, project: string, f: ActionForm): Action {
  const stage = f.stage as Stage
  const round = f.stage === 'correction' ? f.round : undefined
  switch (type) {
    case 'project.bidder_added':
      return { type, project, bidder: { id: f.bidder.id.trim(), name: f.bidder.name.trim(), phone: opt(f.bidder.phone), email: opt(f.bidder.email), prefer: opt(f.bidder.prefer) } }
    case 'filing.submitted':
      return { type, project, stage, round, winner: f.stage === 'award' ? opt(f.winner) : undefined }
    case 'filing.reviewed':
      return { type, project, stage, round, outcome: f.outcome, opinion: f.outcome === 'rejected' ? opt(f.opinion) : undefined }
    case 'materials.submitted':
      return { type, project, stage, round }
    case 'notice.published':
      return { type, project, stage, round, url: f.url.trim() }
    case 'deposit.refunded':
      return { type, project }
    default:
      throw new Error(`不支持的办理事项：${type}`)
  }
}
