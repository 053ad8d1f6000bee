//! Why an intake line or an action is refused. Messages are zh-CN for staff;
//! `code()` is the stable machine code callers branch on.

use serde::{Deserialize, Serialize};
use thiserror::Error;
use ts_rs::TS;

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

    #[error("`{0}` 事件由本系统自行记录（{zh}），不能导入或办理", zh = crate::event::kind_zh(.0))]
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

/// What kind of failure a command or the CLI reports: the code the window
/// branches on and the CLI prints (`错误 [code]`), stable across versions.
/// (An intake line's refusal has its own codes: [`Refusal::code`].)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ErrorCode {
    /// 内部错误
    Internal,
    /// 正在处理另一项操作
    Busy,
    /// 输入有误
    Invalid,
    /// 日期有误
    InvalidDate,
    /// 推送通道配置有误
    InvalidConfig,
    /// 联系规则有误
    InvalidContactRules,
    /// 设置有误
    InvalidSetting,
    /// 用户信息有误
    InvalidUser,
    /// 未知设置
    UnknownSetting,
    /// 缺少密钥
    MissingSecret,
    /// 不符合标准，未办理
    Refused,
    /// 已办理过
    Duplicate,
    /// 未找到
    NotFound,
    /// 未选择文件
    NotChosen,
    /// 未登录
    NotLoggedIn,
    /// 登录已超时
    SessionExpired,
    /// 须先修改初始密码
    MustChangePassword,
    /// 无权操作
    Forbidden,
    /// 用户名或密码错误
    BadCredentials,
    /// 密码强度不足
    WeakPassword,
    /// 不能修改自己的账户
    OwnAccount,
    /// 用户已存在
    UserExists,
    /// 没有修改
    NothingChanged,
    /// 中心已设置
    AlreadySetUp,
    /// 不是演示中心
    NotDemo,
    /// 这是演示中心：此事不可
    DemoCenter,
    /// 推送并未失败
    NotFailed,
    /// 推送由其他设备发送，或因同步冲突暂停
    PushHeld,
    /// 拒收数据已处理
    RejectNotOpen,
    /// 通道未配置
    ChannelNotConfigured,
    /// 未设置存证接收人
    NoAnchorRecipients,
    /// 今日已存证
    AnchorAgain,
    /// 存证时间有误
    AnchorTime,
    /// 系统钥匙串不可用
    Keyring,
    /// 发送程序无法启动
    DispatchSetup,
    /// 备份文件已存在
    BackupExists,
    /// 备份路径有误
    BackupPath,
    /// 数据库错误
    Database,
    /// 磁盘已满
    DiskFull,
    /// 数据库升级失败
    Migration,
    /// 数据已损坏
    Corrupt,
    /// 不是本产品的数据库
    NotADatabase,
    /// 数据库结构不符
    SchemaMismatch,
    /// 数据库版本过新
    SchemaTooNew,
    /// 文件读取失败
    ReadFailed,
    /// 文件写入失败
    WriteFailed,
    /// 端口无法监听
    PortUnavailable,
    /// 找不到数据目录
    NoDataDir,
    /// 无法连接同步服务器
    ServerUnreachable,
    /// 同步服务器拒绝
    ServerRefused,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 50] = [
        ErrorCode::Internal,
        ErrorCode::Busy,
        ErrorCode::Invalid,
        ErrorCode::InvalidDate,
        ErrorCode::InvalidConfig,
        ErrorCode::InvalidContactRules,
        ErrorCode::InvalidSetting,
        ErrorCode::InvalidUser,
        ErrorCode::UnknownSetting,
        ErrorCode::MissingSecret,
        ErrorCode::Refused,
        ErrorCode::Duplicate,
        ErrorCode::NotFound,
        ErrorCode::NotChosen,
        ErrorCode::NotLoggedIn,
        ErrorCode::SessionExpired,
        ErrorCode::MustChangePassword,
        ErrorCode::Forbidden,
        ErrorCode::BadCredentials,
        ErrorCode::WeakPassword,
        ErrorCode::OwnAccount,
        ErrorCode::UserExists,
        ErrorCode::NothingChanged,
        ErrorCode::AlreadySetUp,
        ErrorCode::NotDemo,
        ErrorCode::DemoCenter,
        ErrorCode::NotFailed,
        ErrorCode::PushHeld,
        ErrorCode::RejectNotOpen,
        ErrorCode::ChannelNotConfigured,
        ErrorCode::NoAnchorRecipients,
        ErrorCode::AnchorAgain,
        ErrorCode::AnchorTime,
        ErrorCode::Keyring,
        ErrorCode::DispatchSetup,
        ErrorCode::BackupExists,
        ErrorCode::BackupPath,
        ErrorCode::Database,
        ErrorCode::DiskFull,
        ErrorCode::Migration,
        ErrorCode::Corrupt,
        ErrorCode::NotADatabase,
        ErrorCode::SchemaMismatch,
        ErrorCode::SchemaTooNew,
        ErrorCode::ReadFailed,
        ErrorCode::WriteFailed,
        ErrorCode::PortUnavailable,
        ErrorCode::NoDataDir,
        ErrorCode::ServerUnreachable,
        ErrorCode::ServerRefused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Internal => "internal",
            ErrorCode::Busy => "busy",
            ErrorCode::Invalid => "invalid",
            ErrorCode::InvalidDate => "invalid_date",
            ErrorCode::InvalidConfig => "invalid_config",
            ErrorCode::InvalidContactRules => "invalid_contact_rules",
            ErrorCode::InvalidSetting => "invalid_setting",
            ErrorCode::InvalidUser => "invalid_user",
            ErrorCode::UnknownSetting => "unknown_setting",
            ErrorCode::MissingSecret => "missing_secret",
            ErrorCode::Refused => "refused",
            ErrorCode::Duplicate => "duplicate",
            ErrorCode::NotFound => "not_found",
            ErrorCode::NotChosen => "not_chosen",
            ErrorCode::NotLoggedIn => "not_logged_in",
            ErrorCode::SessionExpired => "session_expired",
            ErrorCode::MustChangePassword => "must_change_password",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::BadCredentials => "bad_credentials",
            ErrorCode::WeakPassword => "weak_password",
            ErrorCode::OwnAccount => "own_account",
            ErrorCode::UserExists => "user_exists",
            ErrorCode::NothingChanged => "nothing_changed",
            ErrorCode::AlreadySetUp => "already_set_up",
            ErrorCode::NotDemo => "not_demo",
            ErrorCode::DemoCenter => "demo_center",
            ErrorCode::NotFailed => "not_failed",
            ErrorCode::PushHeld => "push_held",
            ErrorCode::RejectNotOpen => "reject_not_open",
            ErrorCode::ChannelNotConfigured => "channel_not_configured",
            ErrorCode::NoAnchorRecipients => "no_anchor_recipients",
            ErrorCode::AnchorAgain => "anchor_again",
            ErrorCode::AnchorTime => "anchor_time",
            ErrorCode::Keyring => "keyring",
            ErrorCode::DispatchSetup => "dispatch_setup",
            ErrorCode::BackupExists => "backup_exists",
            ErrorCode::BackupPath => "backup_path",
            ErrorCode::Database => "database",
            ErrorCode::DiskFull => "disk_full",
            ErrorCode::Migration => "migration",
            ErrorCode::Corrupt => "corrupt",
            ErrorCode::NotADatabase => "not_a_database",
            ErrorCode::SchemaMismatch => "schema_mismatch",
            ErrorCode::SchemaTooNew => "schema_too_new",
            ErrorCode::ReadFailed => "read_failed",
            ErrorCode::WriteFailed => "write_failed",
            ErrorCode::PortUnavailable => "port_unavailable",
            ErrorCode::NoDataDir => "no_data_dir",
            ErrorCode::ServerUnreachable => "server_unreachable",
            ErrorCode::ServerRefused => "server_refused",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

crate::model::codes!(ErrorCode => "错误");
