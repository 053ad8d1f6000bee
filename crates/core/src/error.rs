//! Why an intake line or an action is refused. Messages are zh-CN for staff;
//! `code()` is the stable machine code callers branch on.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Refusal {
    #[error("不是有效的 JSON 对象：{0}。请检查该行的 JSON 格式")]
    Malformed(String),

    #[error("该行超过 {max} 字节（64 KiB）：一行只能是一个事件，请检查是否缺少换行")]
    TooLong { max: usize },

    /// `byte`: the first bad byte, counted from 1.
    #[error("该行第 {byte} 字节起不是有效的 UTF-8：请以 UTF-8 编码保存文件后重试")]
    NotUtf8 { byte: usize },

    #[error("字段 `{field}` {message}")]
    Field { field: String, message: String },

    #[error("未知的事件类型 `{0}`，可用类型见 intake.md")]
    UnknownType(String),

    #[error("项目 `{0}` 尚未受理登记（4.2）：请先提交该项目的 project.registered 事件")]
    UnknownProject(String),

    #[error("违反 {clause}：{rule}")]
    OutOfOrder { clause: &'static str, rule: String },

    #[error("事件 id `{0}` 已被另一条内容不同的事件使用：请为新事件分配新的 id")]
    IdConflict(String),

    #[error("{clause} 的消息缺少必填内容 `{item}`，不生成残缺消息")]
    MissingItem { clause: &'static str, item: String },

    #[error("该行此前已被拒绝，保存在待处理记录 #{reject} 中（{reason}）：修正原因后请用 `ggzy rejects retry` 重试")]
    AlreadyRefused { reject: i64, reason: String },

    #[error("`{kind}` 事件由{by}记录，{role}不能导入或办理：请交由{by}办理")]
    NotYours {
        kind: &'static str,
        role: &'static str,
        by: String,
    },

    #[error("`{0}` 事件由本系统自行记录（每日审计链头存证），不能导入或办理")]
    OwnType(&'static str),

    #[error("{clause} 须推送给{role}，但通讯录中没有在岗的该角色用户：请先添加用户（ggzy user add）后重试")]
    NoRecipient {
        clause: &'static str,
        role: &'static str,
    },
}

impl Refusal {
    /// Stable machine code, never translated.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Malformed(_) => "malformed",
            Refusal::TooLong { .. } => "line_too_long",
            Refusal::NotUtf8 { .. } => "not_utf8",
            Refusal::Field { .. } => "invalid_field",
            Refusal::UnknownType(_) => "unknown_type",
            Refusal::UnknownProject(_) => "unknown_project",
            Refusal::OutOfOrder { .. } => "out_of_order",
            Refusal::IdConflict(_) => "id_conflict",
            Refusal::MissingItem { .. } => "missing_item",
            Refusal::NoRecipient { .. } => "no_recipient",
            Refusal::AlreadyRefused { .. } => "already_refused",
            Refusal::NotYours { .. } => "not_yours",
            Refusal::OwnType(_) => "own_type",
        }
    }

    /// The field or clause at fault, when there is one.
    pub fn locus(&self) -> Option<String> {
        match self {
            Refusal::Field { field, .. } => Some(field.clone()),
            Refusal::OutOfOrder { clause, .. }
            | Refusal::MissingItem { clause, .. }
            | Refusal::NoRecipient { clause, .. } => Some((*clause).to_string()),
            Refusal::UnknownProject(_) => Some("project".into()),
            Refusal::UnknownType(_) | Refusal::NotYours { .. } | Refusal::OwnType(_) => {
                Some("type".into())
            }
            Refusal::IdConflict(_) => Some("id".into()),
            Refusal::Malformed(_)
            | Refusal::TooLong { .. }
            | Refusal::NotUtf8 { .. }
            | Refusal::AlreadyRefused { .. } => None,
        }
    }

    pub(crate) fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Refusal::Field {
            field: field.into(),
            message: message.into(),
        }
    }

    pub(crate) fn order(clause: &'static str, rule: impl Into<String>) -> Self {
        Refusal::OutOfOrder {
            clause,
            rule: rule.into(),
        }
    }
}
