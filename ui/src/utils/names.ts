// How staff call the codes the backend speaks (display only; the codes are the contract).

export const STAGES: Record<string, string> = {
  consultation: '意见征询',
  tender_notice: '招标公告',
  correction: '更正（澄清、答疑）',
  bid_opening: '开标',
  evaluation_result: '评标结果公示',
  award: '中标结果',
  contract: '合同',
  performance: '履约',
}

export const EVENT_TYPES: Record<string, string> = {
  'project.registered': '项目登记',
  'project.bidder_added': '新增投标人',
  'filing.submitted': '提交备案',
  'filing.reviewed': '备案审核',
  'materials.submitted': '提交发布资料',
  'notice.published': '查验通过并发布',
  'experts.drawn': '专家抽取',
  'deposit.refunded': '保证金退还',
  'member.registration_submitted': '会员注册申请',
  'member.registration_reviewed': '会员注册审核',
  'member.password_reset': '会员密码重置',
  'complaint.lodged': '投诉受理',
  'complaint.resolved': '投诉处理完毕',
  'survey.answered': '满意度调查',
  'audit.anchored': '审计链头存证',
}

export const ROLES: Record<string, string> = {
  member: '服务对象',
  tenderer: '招标人',
  agency: '招标代理机构',
  bidder: '投标人',
  winning_bidder: '中标人',
  losing_bidder: '未中标投标人',
  expert: '评标专家',
  center_staff: '中心工作人员',
  supervisor_staff: '行政监督部门',
  complainant: '投诉人',
}

export const CHANNELS: Record<string, string> = { sms: '短信', email: '电子邮件', desktop: '桌面通知', dingtalk: '钉钉', wecom: '企业微信' }

export const PUSH_STATUS: Record<string, { label: string; type: 'info' | 'primary' | 'success' | 'warning' | 'danger' }> = {
  queued: { label: '待发送', type: 'info' },
  sending: { label: '发送中', type: 'primary' },
  sent: { label: '已发送', type: 'primary' },
  delivered: { label: '已送达', type: 'success' },
  retrying: { label: '待重试', type: 'warning' },
  unknown: { label: '结果未知', type: 'warning' },
  failed: { label: '送达失败', type: 'danger' },
  dead: { label: '死信', type: 'danger' },
}

export function named(map: Record<string, string>, code: string | null | undefined): string {
  if (!code) return '—'
  return map[code] ?? code
}
