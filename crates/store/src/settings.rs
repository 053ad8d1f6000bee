//! Center settings: its name (the sending body of every message) and phone,
//! the idle time of a session, the daily anchor's time and recipients.

use crate::audit::AuditWriter;
use crate::{now, Result, Store, StoreError};
use ggzy_core::anchor;
use ggzy_core::calendar::{self, Calendar, YearExceptions};
use ggzy_core::deadlines::Limits;
use ggzy_core::error::ErrorCode;
use ggzy_core::event::valid_phone;
use ggzy_core::materials::Checklists;
use ggzy_core::reach::ContactRules;
use ggzy_core::render::Center;
use serde_json::{json, Value};
use sqlx::SqliteConnection;

/// The settings there are, with what each means.
pub const KEYS: [(&str, &str); 6] = [
    (
        "center_name",
        "中心名称：每条消息的署名，如“台州市公共资源交易中心”",
    ),
    ("center_phone", "中心联系电话：附在消息末尾，供对方咨询"),
    (
        "session_idle_minutes",
        "无操作自动退出登录的分钟数（1–480，默认 15）",
    ),
    (
        "anchor_time",
        "每日审计链头存证的推送时间（北京时间“时:分”，默认 17:30）",
    ),
    (
        "anchor_recipients",
        "审计链头存证的接收人（行政监督部门）：每人一行，姓名 手机号 邮箱；为空则不推送",
    ),
    (
        "sync_server",
        "同步服务器地址，如 http://192.168.1.10:8790；为空则不同步（令牌在系统钥匙串中）",
    ),
];

/// Minutes without a command after which a desktop session ends, unless set.
pub const SESSION_IDLE_MINUTES: u64 = 15;
/// The longest idle time a center may allow: one working day.
const MAX_IDLE_MINUTES: u64 = 480;

/// A setting's value as staff may set it, or what is wrong with it.
pub fn check(key: &str, value: &str) -> Result<()> {
    if !KEYS.iter().any(|(k, _)| *k == key) {
        let known: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
        return Err(StoreError::invalid(
            ErrorCode::UnknownSetting,
            format!("没有名为 `{key}` 的设置；可设置：{}", known.join("、")),
        ));
    }
    if key == "center_name" && value.is_empty() {
        return Err(StoreError::invalid(
            ErrorCode::InvalidSetting,
            "中心名称不能为空",
        ));
    }
    if key == "session_idle_minutes"
        && !value
            .parse::<u64>()
            .is_ok_and(|m| (1..=MAX_IDLE_MINUTES).contains(&m))
    {
        return Err(StoreError::invalid(
            ErrorCode::InvalidSetting,
            format!("无操作退出时间 `{value}` 无效：须为 1–{MAX_IDLE_MINUTES} 之间的整数（分钟）"),
        ));
    }
    let invalid = |m: String| Err(StoreError::invalid(ErrorCode::InvalidSetting, m));
    if key == "anchor_time" && !value.is_empty() {
        if let Err(m) = anchor::parse_time(value) {
            return invalid(m);
        }
    }
    if key == "anchor_recipients" {
        if let Err(m) = anchor::parse_recipients(value) {
            return invalid(m);
        }
    }
    let url = (value.starts_with("http://") || value.starts_with("https://"))
        && !value.contains(char::is_whitespace);
    if key == "sync_server" && !value.is_empty() && !url {
        return invalid(format!(
            "同步服务器地址 `{value}` 无效：须以 http:// 或 https:// 开头，如 http://192.168.1.10:8790"
        ));
    }
    if key == "center_phone" && !value.is_empty() && !valid_phone(value) {
        return Err(StoreError::invalid(
            ErrorCode::InvalidSetting,
            format!("`{value}` 不是有效的电话号码"),
        ));
    }
    Ok(())
}

impl Store {
    pub async fn set_setting(&self, key: &str, value: &str, by: &str) -> Result<()> {
        self.set_settings(&[(key, value)], by).await
    }

    /// Whether these settings may be saved as they are: the check
    /// `set_settings` makes first, for a caller that writes more besides.
    pub fn check_settings(&self, pairs: &[(&str, &str)]) -> Result<()> {
        pairs.iter().try_for_each(|(k, v)| check(k, v.trim()))
    }

    /// Change several settings together: every value is checked first, then
    /// all are written in one transaction, so a bad one changes nothing.
    pub async fn set_settings(&self, pairs: &[(&str, &str)], by: &str) -> Result<()> {
        for (key, value) in pairs {
            check(key, value.trim())?;
        }
        let mut tx = self.write().await?;
        write_settings(tx.conn(), self.device_n(), pairs, by).await?;
        tx.commit().await
    }

    /// The deployment's channel configuration (JSON, checked by the
    /// dispatcher; it holds no secret), if one was saved.
    pub async fn dispatch_config(&self) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'dispatch_config'")
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// Save the channel configuration the caller has checked; audited with
    /// the whole text, so who changed which channel is on record.
    pub async fn save_dispatch_config(&self, config: &str, by: &str) -> Result<()> {
        let audit = json!({ "config": config, "by": by });
        self.save_meta("dispatch_config", config, "dispatch.configured", audit)
            .await
    }

    /// The center's contact rules (3.4): saved ones, or the defaults.
    pub async fn contact_rules(&self) -> Result<ContactRules> {
        contact_rules(&mut *self.pool().acquire().await?).await
    }

    /// Check and save the contact rules; they decide the pushes of events
    /// accepted from now on (what is queued stays as it was decided).
    pub async fn save_contact_rules(&self, rules: &ContactRules, by: &str) -> Result<()> {
        rules
            .check()
            .map_err(|m| StoreError::invalid(ErrorCode::InvalidContactRules, m))?;
        let text = serde_json::to_string(rules)?;
        let audit = json!({ "rules": rules, "by": by });
        self.save_meta("contact_rules", &text, "contact_rules.changed", audit)
            .await
    }

    /// The checklists of materials verification: saved ones, or the defaults.
    pub async fn checklists(&self) -> Result<Checklists> {
        self.meta_or("checklists", Checklists::default).await
    }

    /// Check and save the checklists; verifications recorded from now on
    /// are offered them (a recorded verdict keeps the items it was checked on).
    pub async fn save_checklists(&self, lists: &Checklists, by: &str) -> Result<()> {
        lists
            .check()
            .map_err(|m| StoreError::invalid(ErrorCode::InvalidSetting, m))?;
        let text = serde_json::to_string(lists)?;
        let audit = json!({ "checklists": lists, "by": by });
        self.save_meta("checklists", &text, "checklists.changed", audit)
            .await
    }

    /// Each year's holidays and make-up working days as kept, or the years
    /// the product knows.
    pub async fn calendar_years(&self) -> Result<Vec<YearExceptions>> {
        self.meta_or("calendar", calendar::known_years).await
    }

    /// The working-day calendar every statutory clock runs on.
    pub async fn calendar(&self) -> Result<Calendar> {
        Calendar::new(&self.calendar_years().await?)
            .map_err(|m| StoreError::Corrupt(format!("保存的工作日历无法使用：{m}")))
    }

    /// Check and keep the years' holidays and make-up working days; a
    /// contradiction is refused naming the day, and nothing is kept.
    pub async fn save_calendar(&self, years: &[YearExceptions], by: &str) -> Result<()> {
        Calendar::new(years).map_err(|m| StoreError::invalid(ErrorCode::InvalidSetting, m))?;
        let mut years = years.to_vec();
        years.sort_by_key(|y| y.year);
        for y in &mut years {
            y.off.sort();
            y.off.dedup();
            y.on.sort();
            y.on.dedup();
        }
        let text = serde_json::to_string(&years)?;
        let audit = json!({ "calendar": years, "by": by });
        self.save_meta("calendar", &text, "calendar.changed", audit)
            .await
    }

    /// The statutory limits the clocks run on (the defaults until an admin sets them).
    pub async fn limits(&self) -> Result<Limits> {
        self.meta_or("limits", Limits::default).await
    }

    /// Check and keep the limits; one out of range is refused, naming it.
    pub async fn save_limits(&self, limits: &Limits, by: &str) -> Result<()> {
        limits
            .check()
            .map_err(|m| StoreError::invalid(ErrorCode::InvalidSetting, m))?;
        let text = serde_json::to_string(limits)?;
        let audit = json!({ "limits": limits, "by": by });
        self.save_meta("limits", &text, "limits.changed", audit)
            .await
    }

    /// Mark this database as the demo center (once; see `seed_demo`).
    pub(crate) async fn mark_demo(&self) -> Result<()> {
        let audit = json!({ "value": "1", "by": "demo" });
        self.save_meta("demo", "1", "demo.marked", audit).await
    }

    /// A deployment-wide value kept in `meta` as JSON, or `default`'s while none is.
    async fn meta_or<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
        default: impl FnOnce() -> T,
    ) -> Result<T> {
        let saved: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
            .bind(key)
            .fetch_optional(self.pool())
            .await?;
        Ok(match saved {
            Some(text) => serde_json::from_str(&text)?,
            None => default(),
        })
    }

    /// A deployment-wide value kept in `meta`, with its audit record, together.
    async fn save_meta(
        &self,
        key: &str,
        value: &str,
        kind: &'static str,
        audit: Value,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let conn = tx.conn();
        let at = now();
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES (?, ?) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&mut *conn)
        .await?;
        AuditWriter::record(conn, self.device_n(), &at, kind, key, audit).await?;
        tx.commit().await
    }

    pub async fn settings(&self) -> Result<Vec<(String, String)>> {
        Ok(
            sqlx::query_as("SELECT key, value FROM settings ORDER BY key")
                .fetch_all(self.pool())
                .await?,
        )
    }
}

/// Write checked settings, each with its record, in the caller's transaction.
pub(crate) async fn write_settings(
    conn: &mut SqliteConnection,
    device: i64,
    pairs: &[(&str, &str)],
    by: &str,
) -> Result<()> {
    let at = now();
    for (key, value) in pairs {
        let value = value.trim();
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(value)
        .bind(&at)
        .execute(&mut *conn)
        .await?;
        let body = json!({ "value": value, "by": by });
        AuditWriter::record(conn, device, &at, "setting.changed", key, body).await?;
    }
    Ok(())
}

pub(crate) async fn center(conn: &mut SqliteConnection) -> Result<Center> {
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT key, value FROM settings")
        .fetch_all(&mut *conn)
        .await?;
    let mut center = Center::default();
    for (k, v) in rows {
        match k.as_str() {
            "center_name" => center.name = v,
            "center_phone" if !v.is_empty() => center.phone = Some(v),
            _ => {}
        }
    }
    Ok(center)
}

pub(crate) async fn contact_rules(conn: &mut SqliteConnection) -> Result<ContactRules> {
    let text: Option<String> =
        sqlx::query_scalar("SELECT value FROM meta WHERE key = 'contact_rules'")
            .fetch_optional(&mut *conn)
            .await?;
    match text {
        Some(t) => serde_json::from_str(&t)
            .map_err(|e| StoreError::Corrupt(format!("meta.contact_rules: {e}"))),
        None => Ok(ContactRules::default()),
    }
}
