//! A draw's calls: the experts it told (the drawn first, then backups as
//! others decline or let the time pass), their answers and their sign-in
//! (签到) at the evaluation. Each row is covered by its latest `draw.call`
//! record, which holds the row's SM3: who was called stays out of the trail.
//!
//! Which backup to call, and what is short, is `core::draw`'s to say; here
//! it is carried out: a call is an `experts.drawn` event, written with its
//! row in one transaction, whose id the draw and the call's number make
//! (`draw-{draw}-{seq}`), so two fills at once cannot both call; a
//! shortage is the product's own `draw.short` event, to the staff who ran
//! the draw.

use crate::audit::AuditWriter;
use crate::draws::{refused, told_line};
use crate::intake::LineOutcome;
use crate::{now, Result, Store, StoreError};
use chrono::{DateTime, Utc};
use ggzy_core::audit::sm3_hex;
use ggzy_core::draw::{self, Call, Inputs, Reply, Tally};
use ggzy_core::event::DRAW_SHORT;
use ggzy_core::experts::Expert;
use serde::Serialize;
use serde_json::json;
use sqlx::SqliteConnection;
use std::collections::{BTreeMap, BTreeSet};

/// The kind of the record covering a call's row.
pub const CALL: &str = "draw.call";

/// Who a call's answer came from when no person recorded it.
pub const BY_SMS: &str = "sms";
pub const BY_TIMEOUT: &str = "timeout";

/// One expert a draw called, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallRow {
    pub draw_id: String,
    /// Call order within the draw, from 1.
    pub seq: i64,
    pub expert_id: String,
    pub specialty: String,
    pub event_id: String,
    pub called_at: String,
    pub reply: Option<Reply>,
    pub replied_at: Option<String>,
    pub replied_by: Option<String>,
    pub signed_in_at: Option<String>,
    pub signed_in_by: Option<String>,
}

impl CallRow {
    pub(crate) fn new(
        draw_id: &str,
        seq: i64,
        expert: &str,
        specialty: &str,
        event_id: &str,
        at: &str,
    ) -> CallRow {
        CallRow {
            draw_id: draw_id.to_owned(),
            seq,
            expert_id: expert.to_owned(),
            specialty: specialty.to_owned(),
            event_id: event_id.to_owned(),
            called_at: at.to_owned(),
            reply: None,
            replied_at: None,
            replied_by: None,
            signed_in_at: None,
            signed_in_by: None,
        }
    }

    /// What its record holds: the row's SM3.
    fn digest(&self) -> String {
        sm3_hex(serde_json::to_string(self).expect("plain values"))
    }

    /// The subject of its records: the draw and the call's number.
    fn subject(&self) -> String {
        format!("{}#{}", self.draw_id, self.seq)
    }

    fn as_call(&self) -> Call {
        Call {
            expert: self.expert_id.clone(),
            specialty: self.specialty.clone(),
            reply: self.reply,
        }
    }
}

/// What answering or filling a draw came to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Advance {
    /// Backups called (each told by a 4.6 push).
    pub called: u32,
    /// Specialties left short, with how many places: their staff were alerted.
    pub short: Vec<(String, u32)>,
}

/// What became of an expert's text message back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsAnswer {
    /// Recorded as the answer to this draw's call.
    Recorded { draw_id: String, reply: Reply },
    /// Neither a yes nor a no: nothing recorded.
    NotAnAnswer,
    /// No call waits for an answer from this number.
    NoCall,
    /// Several calls wait for this number: staff must record which.
    Ambiguous,
}

type Raw = (
    String,
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

const COLUMNS: &str =
    "draw_id, seq, expert_id, specialty, event_id, called_at, reply, replied_at, \
                       replied_by, signed_in_at, signed_in_by";

fn from_raw(r: Raw) -> Result<CallRow> {
    let reply =
        match r.6 {
            None => None,
            Some(s) => Some(Reply::parse(&s).ok_or_else(|| {
                StoreError::Corrupt(format!("draw_calls 中的答复 `{s}` 无法识别"))
            })?),
        };
    Ok(CallRow {
        draw_id: r.0,
        seq: r.1,
        expert_id: r.2,
        specialty: r.3,
        event_id: r.4,
        called_at: r.5,
        reply,
        replied_at: r.7,
        replied_by: r.8,
        signed_in_at: r.9,
        signed_in_by: r.10,
    })
}

/// Write a call's row as it now stands, with the record that covers it.
pub(crate) async fn write_call(
    conn: &mut SqliteConnection,
    device: i64,
    call: &CallRow,
    at: &str,
) -> Result<()> {
    sqlx::query(&format!(
        "INSERT OR REPLACE INTO draw_calls ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(&call.draw_id)
    .bind(call.seq)
    .bind(&call.expert_id)
    .bind(&call.specialty)
    .bind(&call.event_id)
    .bind(&call.called_at)
    .bind(call.reply.map(Reply::as_str))
    .bind(&call.replied_at)
    .bind(&call.replied_by)
    .bind(&call.signed_in_at)
    .bind(&call.signed_in_by)
    .execute(&mut *conn)
    .await?;
    let body = json!({ "digest": call.digest() });
    AuditWriter::record(conn, device, at, CALL, &call.subject(), body).await?;
    Ok(())
}

/// Every call's row by its subject, as its SM3 (what `audit verify` holds
/// to the records).
pub(crate) async fn digests(conn: &mut SqliteConnection) -> Result<BTreeMap<String, String>> {
    let rows: Vec<Raw> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM draw_calls"))
        .fetch_all(&mut *conn)
        .await?;
    rows.into_iter()
        .map(|r| {
            let c = from_raw(r)?;
            Ok((c.subject(), c.digest()))
        })
        .collect()
}

/// Only digits, the last eleven (a mainland mobile number with or without +86).
fn phone_key(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    digits[digits.len().saturating_sub(11)..].iter().collect()
}

impl Store {
    /// A draw's calls in call order.
    pub async fn draw_calls(&self, id: &str) -> Result<Vec<CallRow>> {
        let rows: Vec<Raw> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM draw_calls WHERE draw_id = ? ORDER BY seq"
        ))
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(from_raw).collect()
    }

    /// A draw's recorded inputs.
    pub async fn draw_inputs(&self, id: &str) -> Result<Inputs> {
        let text: String = sqlx::query_scalar("SELECT inputs FROM draws WHERE id = ?")
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("没有编号为 `{id}` 的抽取")))?;
        serde_json::from_str(&text)
            .map_err(|e| StoreError::Corrupt(format!("抽取 `{id}` 的抽取条件无法读取：{e}")))
    }

    /// Each specialty's calls added up: how many, never who.
    pub async fn draw_tally(&self, id: &str) -> Result<Vec<Tally>> {
        let record = self.draw(id).await?;
        let calls: Vec<Call> = self
            .draw_calls(id)
            .await?
            .iter()
            .map(CallRow::as_call)
            .collect();
        Ok(record
            .outcome
            .map(|o| draw::tally(&o, &calls))
            .unwrap_or_default())
    }

    /// Record a called expert's answer (`by`: a username, or `sms`), then
    /// call backups for the places a decline opened. An answer stands: only
    /// a confirmation may later become a decline (the expert phones to say
    /// they cannot come after all), and nobody signed in answers again.
    pub async fn reply_call(
        &self,
        id: &str,
        expert: &str,
        reply: Reply,
        by: &str,
    ) -> Result<Advance> {
        if reply == Reply::TimedOut {
            return Err(refused(
                "超时由系统按答复时限记录，不能手工登记：请登记确认参加或不能参加".into(),
            ));
        }
        let mut call = self
            .draw_calls(id)
            .await?
            .into_iter()
            .find(|c| c.expert_id == expert)
            .ok_or_else(|| {
                StoreError::NotFound(format!(
                    "抽取 `{id}` 没有通知过专家 `{expert}`：请核对抽取编号与专家编号"
                ))
            })?;
        if call.signed_in_at.is_some() {
            return Err(refused(format!("专家 `{expert}` 已签到，答复不能再更改")));
        }
        match (call.reply, reply) {
            (None, _) | (Some(Reply::Confirmed), Reply::Declined) => {}
            (Some(was), _) => {
                return Err(refused(format!(
                    "专家 `{expert}` 已答复（{}，{}）{}",
                    was.zh(),
                    call.replied_at.as_deref().unwrap_or(""),
                    if was == Reply::Confirmed {
                        "：确认后只能改为不能参加"
                    } else {
                        "：备选专家已通知，答复不能更改"
                    }
                )))
            }
        }
        let at = now();
        call.reply = Some(reply);
        call.replied_at = Some(at.clone());
        call.replied_by = Some(by.to_owned());
        let mut tx = self.write().await?;
        write_call(tx.conn(), self.device_n(), &call, &at).await?;
        tx.commit().await?;
        self.fill_draw(id).await
    }

    /// Call the backups a draw's open places need (4.6 to each), and alert
    /// the staff who ran it to what no backup is left for. Safe to repeat:
    /// a call or alert already made is not made again.
    pub async fn fill_draw(&self, id: &str) -> Result<Advance> {
        let record = self.draw(id).await?;
        let Some(outcome) = record.outcome else {
            return Ok(Advance::default());
        };
        let inputs = self.draw_inputs(id).await?;
        let request = &inputs.request;
        let mut calls = self.draw_calls(id).await?;
        let mut advance = Advance::default();
        let started = request.evaluation.start <= chrono::Local::now().fixed_offset();
        let source = format!("draw:{}", record.created_by);
        let as_calls = |calls: &[CallRow]| calls.iter().map(CallRow::as_call).collect::<Vec<_>>();
        // No one is called once the evaluation has begun: too late to come.
        let wanted = if started {
            Vec::new()
        } else {
            draw::to_call(&outcome, &as_calls(&calls))
        };
        for (specialty, expert_id) in wanted {
            let seq = calls.len() as i64 + 1;
            let event_id = format!("draw-{id}-{seq}");
            let e = self.expert(&expert_id).await?;
            let contact = json!({"id": e.id, "name": e.name, "phone": e.phone, "email": e.email});
            let line = told_line(&event_id, &record.project, request, vec![contact]);
            // The backup told (4.6) and their call written in one transaction.
            let mut tx = self.write().await?;
            match self.decide_in(&mut tx, &source, &line).await? {
                LineOutcome::Accepted { .. } => {}
                // Another fill made this call first: it stands as written.
                LineOutcome::Duplicate { .. } => {
                    tx.rollback().await?;
                    break;
                }
                LineOutcome::Refused { refusal, .. } => {
                    tx.rollback().await?;
                    return Err(refused(format!("备选专家未能通知：{refusal}")));
                }
            }
            let at = now();
            let call = CallRow::new(id, seq, &expert_id, &specialty, &event_id, &at);
            write_call(tx.conn(), self.device_n(), &call, &at).await?;
            tx.commit().await?;
            calls.push(call);
            advance.called += 1;
        }
        for t in draw::tally(&outcome, &as_calls(&calls)) {
            if t.short == 0 {
                continue;
            }
            advance.short.push((t.code.clone(), t.short));
            // One alert for each decline that found no backup.
            let line = json!({
                "id": format!("draw-{id}-short-{}-{}", t.code, t.declined),
                "type": DRAW_SHORT,
                "at": chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
                "project": record.project,
                "draw": id,
                "specialty": t.code,
                "missing": t.short,
                "staff": record.created_by,
            })
            .to_string();
            if let LineOutcome::Refused { refusal, .. } = self.submit_own(&source, &line).await? {
                return Err(refused(format!("缺额提醒未能发出：{refusal}")));
            }
        }
        Ok(advance)
    }

    /// Count as declined every call not answered within its draw's reply
    /// time by `now`, and call backups for them; how many timed out.
    pub async fn expire_calls(&self, now_at: DateTime<Utc>) -> Result<u32> {
        let waiting: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT draw_id, expert_id, called_at FROM draw_calls WHERE reply IS NULL ORDER BY called_at",
        )
        .fetch_all(self.pool())
        .await?;
        let mut minutes = BTreeMap::new();
        let mut touched = BTreeSet::new();
        let mut expired = 0;
        for (draw_id, expert_id, called_at) in waiting {
            if !minutes.contains_key(&draw_id) {
                let m = self.draw_inputs(&draw_id).await?.request.reply_minutes();
                minutes.insert(draw_id.clone(), m);
            }
            let called = DateTime::parse_from_rfc3339(&called_at).map_err(|e| {
                StoreError::Corrupt(format!("draw_calls 的通知时间 `{called_at}` 无法读取：{e}"))
            })?;
            let due = called + chrono::Duration::minutes(i64::from(minutes[&draw_id]));
            if due > now_at {
                continue;
            }
            let mut call = self
                .draw_calls(&draw_id)
                .await?
                .into_iter()
                .find(|c| c.expert_id == expert_id && c.reply.is_none());
            let Some(call) = call.as_mut() else { continue };
            let at = now();
            call.reply = Some(Reply::TimedOut);
            call.replied_at = Some(at.clone());
            call.replied_by = Some(BY_TIMEOUT.to_owned());
            let mut tx = self.write().await?;
            write_call(tx.conn(), self.device_n(), call, &at).await?;
            tx.commit().await?;
            expired += 1;
            touched.insert(draw_id);
        }
        for id in touched {
            self.fill_draw(&id).await?;
        }
        Ok(expired)
    }

    /// Keep the statutory clocks while the process runs: every minute, draw
    /// calls not answered in time count as declined and call their backups
    /// (`expire_calls`), and complaints' clocks remind their supervisors
    /// (`remind_complaints`); `called` is told when either pushed, so the
    /// pushes go at once. Where staff work (the desktop app, `ggzy dispatch
    /// run`), whether or not this process sends pushes. A failure is logged
    /// and tried again at the next minute.
    pub async fn keep_clocks(&self, called: &tokio::sync::Notify) {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            match self.expire_calls(Utc::now()).await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!(timed_out = n, "draw calls timed out; backups called");
                    called.notify_one();
                }
                Err(e) => {
                    tracing::warn!(error = %e, "draw call timeouts not recorded; tried again shortly")
                }
            }
            match self.remind_complaints(Utc::now()).await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!(reminders = n, "complaint clocks reminded their supervisors");
                    called.notify_one();
                }
                Err(e) => {
                    tracing::warn!(error = %e, "complaint reminders not recorded; tried again shortly")
                }
            }
        }
    }

    /// An expert's text message back (the SMS gateway's reply callback):
    /// recorded when it reads as a yes or a no and exactly one call waits
    /// for an answer from that number.
    pub async fn reply_by_sms(&self, phone: &str, text: &str) -> Result<SmsAnswer> {
        let Some(reply) = Reply::from_sms(text) else {
            return Ok(SmsAnswer::NotAnAnswer);
        };
        let key = phone_key(phone);
        if key.len() < 5 {
            return Ok(SmsAnswer::NoCall);
        }
        let waiting: Vec<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT c.draw_id, c.expert_id, e.phone FROM draw_calls c JOIN experts e ON e.id = c.expert_id \
             WHERE c.reply IS NULL",
        )
        .fetch_all(self.pool())
        .await?;
        let mine: Vec<_> = waiting
            .into_iter()
            .filter(|(.., p)| p.as_deref().map(phone_key).as_deref() == Some(key.as_str()))
            .collect();
        match mine.as_slice() {
            [] => Ok(SmsAnswer::NoCall),
            [(draw_id, expert_id, _)] => {
                self.reply_call(draw_id, expert_id, reply, BY_SMS).await?;
                Ok(SmsAnswer::Recorded {
                    draw_id: draw_id.clone(),
                    reply,
                })
            }
            _ => Ok(SmsAnswer::Ambiguous),
        }
    }

    /// The call of draw `id` whose expert has this ID number or, when
    /// `phone_too`, this phone number: how staff who may not see who was
    /// called find the one in front of them (or on the line).
    async fn call_of(&self, id: &str, who: &str, phone_too: bool) -> Result<(CallRow, Expert)> {
        let typed = who.trim().to_uppercase();
        let key = phone_key(&typed);
        for call in self.draw_calls(id).await? {
            let e = self.expert(&call.expert_id).await?;
            let by_phone = phone_too
                && key.len() >= 5
                && e.phone.as_deref().map(phone_key).as_deref() == Some(key.as_str());
            if e.id_number.to_uppercase() == typed || by_phone {
                return Ok((call, e));
            }
        }
        let shown = if typed.len() == 18 {
            ggzy_core::experts::mask_id_number(&typed)
        } else {
            "所填号码".to_owned()
        };
        Err(StoreError::NotFound(format!(
            "本次抽取通知的专家中没有{}为 {shown} 的专家：请核对{}",
            if phone_too {
                "身份证号或手机号"
            } else {
                "身份证号"
            },
            if phone_too { "号码" } else { "证件" },
        )))
    }

    /// As `reply_call`, finding the call by the expert's ID number or phone.
    pub async fn reply_call_by(
        &self,
        id: &str,
        who: &str,
        reply: Reply,
        by: &str,
    ) -> Result<Advance> {
        let (call, _) = self.call_of(id, who, true).await?;
        self.reply_call(id, &call.expert_id, reply, by).await
    }

    /// Sign an expert in at the evaluation by the ID number on their card:
    /// they must be one this draw called and who has not declined. Who they
    /// are is then revealed to `by`, and returned.
    pub async fn sign_in(&self, id: &str, id_number: &str, by: &str) -> Result<Expert> {
        let (mut call, expert) = self.call_of(id, id_number, false).await?;
        if let Some(at) = &call.signed_in_at {
            return Err(refused(format!("该专家已于 {at} 签到")));
        }
        if let Some(r @ (Reply::Declined | Reply::TimedOut)) = call.reply {
            return Err(refused(format!(
                "该专家{}，已由备选专家替补，不能签到",
                r.zh()
            )));
        }
        let at = now();
        if call.reply.is_none() {
            call.reply = Some(Reply::Confirmed);
            call.replied_at = Some(at.clone());
            call.replied_by = Some(by.to_owned());
        }
        call.signed_in_at = Some(at.clone());
        call.signed_in_by = Some(by.to_owned());
        let mut tx = self.write().await?;
        write_call(tx.conn(), self.device_n(), &call, &at).await?;
        tx.commit().await?;
        Ok(expert)
    }

    /// The experts of project `code` whose identity `user` may see without
    /// being a supervisor: those of draws `user` runs the evaluation of (ran
    /// the draw, or signed someone in), once signed in or once the
    /// evaluation has begun.
    pub async fn revealed_experts(
        &self,
        code: &str,
        user: &str,
        at: DateTime<Utc>,
    ) -> Result<BTreeSet<String>> {
        let mut out = BTreeSet::new();
        for d in self.project_draws(code).await? {
            let calls = self.draw_calls(&d.id).await?;
            let staff = d.created_by == user
                || calls
                    .iter()
                    .any(|c| c.signed_in_by.as_deref() == Some(user));
            if !staff {
                continue;
            }
            let started = self.draw_inputs(&d.id).await?.request.evaluation.start <= at;
            out.extend(
                calls
                    .into_iter()
                    .filter(|c| started || c.signed_in_at.is_some())
                    .map(|c| c.expert_id),
            );
        }
        Ok(out)
    }
}
