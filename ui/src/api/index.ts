// The one door to the backend: every command goes through `call`, which
// turns a failure into an `ElMessage` and a typed `AppError`.
import { Channel, invoke } from '@tauri-apps/api/core'
import { ElMessage } from 'element-plus'
import type { AppError } from './bindings/AppError'
import type { Session } from './bindings/Session'
import type { CenterState } from './bindings/CenterState'
import type { DemoAccount } from './bindings/DemoAccount'
import type { SetUp } from './bindings/SetUp'
import type { Workbench } from './bindings/Workbench'
import type { ProjectDetail } from './bindings/ProjectDetail'
import type { ProjectItem } from './bindings/ProjectItem'
import type { ProjectList } from './bindings/ProjectList'
import type { PushItem } from './bindings/PushItem'
import type { Action } from './bindings/Action'
import type { ActionDone } from './bindings/ActionDone'
import type { PartyInput } from './bindings/PartyInput'
import type { PushList } from './bindings/PushList'
import type { AuditProgress } from './bindings/AuditProgress'
import type { AuditReport } from './bindings/AuditReport'
import type { AuditHead } from './bindings/AuditHead'
import type { AnchorSettings } from './bindings/AnchorSettings'
import type { AnchorSent } from './bindings/AnchorSent'
import type { CenterSettings } from './bindings/CenterSettings'
import type { NewStaffUser } from './bindings/NewStaffUser'
import type { StaffUser } from './bindings/StaffUser'
import type { PushLogQuery } from './bindings/PushLogQuery'
import type { PartyItem } from './bindings/PartyItem'
import type { ProjectQuery } from './bindings/ProjectQuery'
import type { StaffUserChange } from './bindings/StaffUserChange'
import type { TemplatePreview } from './bindings/TemplatePreview'
import type { ImportProgress } from './bindings/ImportProgress'
import type { ImportReport } from './bindings/ImportReport'
import type { ChosenFile } from './bindings/ChosenFile'
import type { RejectItem } from './bindings/RejectItem'
import type { RejectList } from './bindings/RejectList'
import type { RetryReport } from './bindings/RetryReport'
import type { ChannelSettings } from './bindings/ChannelSettings'
import type { SecretValue } from './bindings/SecretValue'
import type { ContactForm } from './bindings/ContactForm'
import type { DispatchConfig } from './bindings/DispatchConfig'
import type { SmsProvider } from './bindings/SmsProvider'
import type { ContactSettings } from './bindings/ContactSettings'
import type { SecretState } from './bindings/SecretState'
import type { Labels } from './bindings/Labels'
import type { SyncSettings } from './bindings/SyncSettings'
import type { SyncForm } from './bindings/SyncForm'
import type { SyncStatus } from './bindings/SyncStatus'
import type { ServerAlarm } from './bindings/ServerAlarm'
import type { ConflictItem } from './bindings/ConflictItem'
import type { ResolveForm } from './bindings/ResolveForm'
import type { Label } from './bindings/Label'
import type { Stage } from './bindings/Stage'
import type { Outcome } from './bindings/Outcome'
import type { Channel as PushChannel } from './bindings/Channel'
import type { PushStatus } from './bindings/PushStatus'
import type { Role } from './bindings/Role'
import type { StaffRole } from './bindings/StaffRole'
import type { ActionKind } from './bindings/ActionKind'
import type { ActionOffer } from './bindings/ActionOffer'
import type { MenuItem } from './bindings/MenuItem'
import type { Right } from './bindings/Right'
import type { ErrorCode } from './bindings/ErrorCode'
import type { MaterialsView } from './bindings/MaterialsView'
import type { MaterialsRound } from './bindings/MaterialsRound'
import type { CheckedItem } from './bindings/CheckedItem'
import type { Checklists } from './bindings/Checklists'
import type { Verdict } from './bindings/Verdict'
import type { Expert } from './bindings/Expert'
import type { ExpertStatus } from './bindings/ExpertStatus'
import type { ExpertForm } from './bindings/ExpertForm'
import type { ExpertList } from './bindings/ExpertList'
import type { ExpertListQuery } from './bindings/ExpertListQuery'
import type { RosterResult } from './bindings/RosterResult'
import type { DrawForm } from './bindings/DrawForm'
import type { DrawSummary } from './bindings/DrawSummary'
import type { DrawView } from './bindings/DrawView'
import type { CallView } from './bindings/CallView'
import type { Tally } from './bindings/Tally'
import type { ReplyResult } from './bindings/ReplyResult'
import type { ShownExpert } from './bindings/ShownExpert'
import type { YearExceptions } from './bindings/YearExceptions'
import type { ComplaintItem } from './bindings/ComplaintItem'
import type { ComplaintClock } from './bindings/ComplaintClock'
import type { ComplaintDetail } from './bindings/ComplaintDetail'
import type { ComplaintForm } from './bindings/ComplaintForm'
import type { ComplaintState } from './bindings/ComplaintState'
import type { ComplaintChannel } from './bindings/ComplaintChannel'
import type { StepView } from './bindings/StepView'
import type { Assignable } from './bindings/Assignable'
import type { Limits } from './bindings/Limits'
import type { Limit } from './bindings/Limit'
import type { SurveyForm } from './bindings/SurveyForm'
import type { SurveyList } from './bindings/SurveyList'
import type { SurveyItem } from './bindings/SurveyItem'
import type { ImprovementForm } from './bindings/ImprovementForm'
import type { ImprovementView } from './bindings/ImprovementView'
import type { Statistics } from './bindings/Statistics'
import type { StatTable } from './bindings/StatTable'

export type { MaterialsView, MaterialsRound, CheckedItem, Checklists, Verdict, YearExceptions, ComplaintItem }
export type { ComplaintClock, ComplaintDetail, ComplaintForm, ComplaintState, ComplaintChannel, StepView, Assignable, Limits, Limit }
export type { SurveyForm, SurveyList, SurveyItem, ImprovementForm, ImprovementView, Statistics, StatTable }
export type { Expert, ExpertStatus, ExpertForm, ExpertList, ExpertListQuery, RosterResult, DrawForm, DrawSummary, DrawView, CallView, Tally, ReplyResult, ShownExpert }
export type { ConflictItem, ResolveForm, ServerAlarm, SyncSettings, SyncForm, SyncStatus, Labels, Label, Stage, Outcome, PushChannel, PushStatus, Role, StaffRole, ActionKind, ActionOffer, MenuItem, Right, ErrorCode }
export type { AnchorSettings, AnchorSent, CenterState, DemoAccount, SetUp, DispatchConfig, SmsProvider, ContactForm, ContactSettings, ChannelSettings, SecretValue, SecretState, PartyItem, ProjectQuery, StaffUserChange, TemplatePreview, ImportProgress, ImportReport, ChosenFile, RejectItem, RejectList, RetryReport, CenterSettings, NewStaffUser, StaffUser, AuditProgress, AuditReport, AuditHead, PushList, PushLogQuery, Action, ActionDone, PartyInput, AppError, ProjectDetail, ProjectItem, ProjectList, PushItem, Session, Workbench }

export function isAppError(e: unknown): e is AppError {
  return typeof e === 'object' && e !== null && 'code' in e && 'message' in e
}

/** Called when the backend says nobody is logged in, or the session ran out (set by the router). */
export let onLoggedOut: (expired: boolean) => void = () => {}
export function setOnLoggedOut(f: (expired: boolean) => void) {
  onLoggedOut = f
}

const STARTUP_MS = 60_000

export async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  // In the page's first minute each round trip leaves a performance entry
  // (`ipc <command>`) for the start-up benchmark to break the time down;
  // later ones would pile up all day (user timing keeps every entry).
  const start = performance.now()
  try {
    return await invoke<T>(cmd, args)
  } catch (e) {
    const err: AppError = isAppError(e) ? e : { code: 'internal', message: `操作失败：${String(e)}` }
    ElMessage.error(err.message)
    if (err.code === 'not_logged_in' || err.code === 'session_expired') onLoggedOut(err.code === 'session_expired')
    throw err
  } finally {
    if (start < STARTUP_MS) performance.measure(`ipc ${cmd}`, { start })
  }
}

export const api = {
  centerState: () => call<CenterState>('center_state'),
  setUpCenter: (setup: SetUp) => call<Session>('set_up_center', { setup }),
  openDemo: () => call<void>('open_demo'),
  login: (username: string, password: string) => call<Session>('login', { username, password }),
  logout: () => call<void>('logout'),
  session: () => call<Session | null>('session'),
  changePassword: (current: string, next: string) => call<Session>('change_password', { current, new: next }),
  workbench: () => call<Workbench>('workbench'),
  projects: (query: ProjectQuery) => call<ProjectList>('projects', { query }),
  project: (code: string) => call<ProjectDetail>('project', { code }),
  materials: (code: string, stage: Stage, round: number | null) => call<MaterialsView>('materials', { code, stage, round }),
  checklists: () => call<Checklists>('checklists'),
  experts: (query: ExpertListQuery) => call<ExpertList>('experts', { query }),
  saveExpert: (form: ExpertForm) => call<Expert>('save_expert', { form }),
  pickRosterFile: () => call<ChosenFile | null>('pick_roster_file'),
  importRoster: (handle: string) => call<RosterResult>('import_roster', { handle }),
  runDraw: (project: string, form: DrawForm) => call<DrawSummary>('run_draw', { project, form }),
  draws: (project: string) => call<DrawSummary[]>('draws', { project }),
  drawView: (id: string) => call<DrawView>('draw_view', { id }),
  replyCall: (id: string, who: string, confirm: boolean) => call<ReplyResult>('reply_call', { id, who, confirm }),
  signIn: (id: string, idNumber: string) => call<ShownExpert>('sign_in', { id, idNumber }),
  saveDrawRecord: (id: string) => call<string | null>('save_draw_record', { id }),
  saveChecklists: (lists: Checklists) => call<Checklists>('save_checklists', { lists }),
  calendar: () => call<YearExceptions[]>('calendar'),
  complaints: () => call<ComplaintItem[]>('complaints'),
  complaint: (id: string) => call<ComplaintDetail>('complaint', { id }),
  assignable: () => call<Assignable[]>('assignable'),
  lodgeComplaint: (form: ComplaintForm) => call<string>('lodge_complaint', { form }),
  acceptComplaint: (id: string, assignee: string | null) => call<ActionDone>('accept_complaint', { id, assignee }),
  refuseComplaint: (id: string, reason: string) => call<ActionDone>('refuse_complaint', { id, reason }),
  assignComplaint: (id: string, assignee: string) => call<ActionDone>('assign_complaint', { id, assignee }),
  decideComplaint: (id: string, result: string) => call<ActionDone>('decide_complaint', { id, result }),
  noteComplaint: (id: string, note: string, attach: boolean) => call<ActionDone | null>('note_complaint', { id, note, attach }),
  saveComplaintFile: (sm3: string, name: string) => call<string | null>('save_complaint_file', { sm3, name }),
  surveys: () => call<SurveyList>('surveys'),
  recordSurvey: (form: SurveyForm) => call<ActionDone>('record_survey', { form }),
  improvements: () => call<ImprovementView[]>('improvements'),
  saveImprovement: (form: ImprovementForm) => call<ImprovementView>('save_improvement', { form }),
  statistics: (from: string, to: string) => call<Statistics>('statistics', { from, to }),
  saveStatistics: (from: string, to: string) => call<string | null>('save_statistics', { from, to }),
  saveSelfEvaluation: (from: string, to: string, kind: 'pdf' | 'xlsx') => call<string | null>('save_self_evaluation', { from, to, kind }),
  saveEvidencePack: (from: string, to: string) => call<string | null>('save_evidence_pack', { from, to }),
  limits: () => call<Limits>('limits'),
  saveLimits: (limits: Limits) => call<Limits>('save_limits', { limits }),
  saveCalendar: (years: YearExceptions[]) => call<YearExceptions[]>('save_calendar', { years }),
  act: (action: Action) => call<ActionDone>('act', { action }),
  checkAction: (action: Action) => call<string | null>('check_action', { action }),
  pushLog: (query: PushLogQuery) => call<PushList>('push_log', { query }),
  inbox: (before: number | null) => call<PushList>('inbox', { before }),
  inboxUnread: () => call<number>('inbox_unread'),
  requeue: (no: number) => call<void>('requeue', { no }),
  centerSettings: () => call<CenterSettings>('center_settings'),
  saveCenterSettings: (settings: CenterSettings) => call<CenterSettings>('save_center_settings', { settings }),
  staffUsers: () => call<StaffUser[]>('staff_users'),
  addStaffUser: (user: NewStaffUser) => call<string>('add_staff_user', { user }),
  changeStaffUser: (username: string, change: StaffUserChange) => call<string | null>('change_staff_user', { username, change }),
  templatePreviews: () => call<TemplatePreview[]>('template_previews'),
  channelSettings: () => call<ChannelSettings>('channel_settings'),
  contactRules: () => call<ContactForm>('contact_rules'),
  saveContactRules: (settings: ContactSettings) => call<ContactForm>('save_contact_rules', { settings }),
  syncSettings: () => call<SyncSettings>('sync_settings'),
  saveSyncSettings: (form: SyncForm) => call<SyncSettings>('save_sync_settings', { form }),
  testSync: (form: SyncForm) => call<string>('test_sync', { form }),
  syncStatus: () => call<SyncStatus>('sync_status'),
  syncNow: () => call<SyncStatus>('sync_now'),
  serverAlarms: () => call<ServerAlarm[]>('server_alarms'),
  conflicts: () => call<ConflictItem[]>('conflicts'),
  resolveConflict: (device: string, seq: number, form: ResolveForm) => call<void>('resolve_conflict', { device, seq, form }),
  readChannelConfig: (config: string) => call<DispatchConfig>('read_channel_config', { config }),
  channelSecrets: (config: string) => call<SecretState[]>('channel_secrets', { config }),
  saveChannelSettings: (config: string, secrets: SecretValue[]) => call<ChannelSettings>('save_channel_settings', { config, secrets }),
  verifyAudit: (onProgress: (p: AuditProgress) => void) => {
    const channel = new Channel<AuditProgress>()
    channel.onmessage = onProgress
    return call<AuditReport>('verify_audit', { onProgress: channel })
  },
  auditHead: () => call<AuditHead>('audit_head'),
  anchorSettings: () => call<AnchorSettings>('anchor_settings'),
  saveAnchorSettings: (settings: AnchorSettings) => call<AnchorSettings>('save_anchor_settings', { settings }),
  anchorNow: () => call<AnchorSent>('anchor_now'),
  pickImportFile: () => call<ChosenFile | null>('pick_import_file'),
  importFile: (handle: string, onProgress: (p: ImportProgress) => void) => {
    const channel = new Channel<ImportProgress>()
    channel.onmessage = onProgress
    return call<ImportReport>('import_file', { handle, onProgress: channel })
  },
  rejects: (page: number) => call<RejectList>('rejects', { page }),
  fixReject: (id: number, line: string) => call<string>('fix_reject', { id, line }),
  retryRejects: () => call<RetryReport>('retry_rejects'),
}
