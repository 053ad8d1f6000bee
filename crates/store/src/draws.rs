//! Expert draws in the database. The commitment to the seed is written and
//! audited (`draw.committed`, with the inputs' SM3) before the draw; the
//! drawn experts are told through the ordinary `experts.drawn` event (so the
//! 4.6 push and the project's order are the same as an imported draw's); the
//! seed is then revealed (`draw.revealed`). `verify_draw` re-runs a recorded
//! draw from its inputs and seed.

use crate::audit::AuditWriter;
use crate::draw_calls::{write_call, CallRow};
use crate::intake::LineOutcome;
use crate::{now, Result, Store, StoreError};
use ggzy_core::audit::hex;
use ggzy_core::draw::{self, DrawError, Inputs, Outcome, Request};
use ggzy_core::error::ErrorCode;
use serde::Serialize;
use serde_json::json;

pub const COMMITTED: &str = "draw.committed";
pub const REVEALED: &str = "draw.revealed";

/// A draw as it was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DrawRecord {
    pub id: String,
    pub project: String,
    pub commitment: String,
    /// Hex; `None` until revealed.
    pub seed: Option<String>,
    pub outcome: Option<Outcome>,
    pub event_id: Option<String>,
    pub created_at: String,
    pub created_by: String,
}

/// A draw committed to and not drawn yet: what `finish_draw` needs. The
/// seed lives only here until it is revealed.
pub struct Committed {
    pub id: String,
    project: String,
    source: String,
    inputs: Inputs,
    seed: [u8; 32],
}

/// What `draw verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DrawCheck {
    pub id: String,
    /// Every difference found; empty when the draw reproduces.
    pub problems: Vec<String>,
}

/// The `experts.drawn` line that tells `experts` they were drawn (4.6):
/// the same event an imported draw is.
pub(crate) fn told_line(
    event_id: &str,
    code: &str,
    request: &Request,
    experts: Vec<serde_json::Value>,
) -> String {
    json!({
        "id": event_id,
        "type": "experts.drawn",
        "at": chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        "project": code,
        "sender": request.sender,
        "evaluation": {
            "start": request.evaluation.start.to_rfc3339(),
            "duration_hours": request.evaluation.duration_hours,
            "place": request.evaluation.place,
            "contact_phone": request.evaluation.contact_phone,
        },
        "experts": experts,
    })
    .to_string()
}

pub(crate) fn refused(message: String) -> StoreError {
    StoreError::invalid(ErrorCode::Refused, message)
}

impl Store {
    /// Run a draw for `code` over the pool as it stands: committed, drawn,
    /// told (4.6 to each drawn expert) and revealed. A desktop connected to
    /// a sync server does not: it commits, has the server record the
    /// commitment, then finishes (`commit_draw`, `finish_draw`).
    pub async fn run_draw(&self, code: &str, request: Request, by: &str) -> Result<DrawRecord> {
        let committed = self.commit_draw(code, request, by).await?;
        self.finish_draw(committed).await
    }

    /// The first half of a draw: whether the project may draw now, then
    /// the draw's inputs and the commitment to its seed, written and
    /// audited (`draw.committed`). Nothing is drawn yet; the seed is only
    /// in the value returned.
    pub async fn commit_draw(&self, code: &str, request: Request, by: &str) -> Result<Committed> {
        request.check().map_err(|e| refused(e.to_string()))?;
        let id = uuid::Uuid::now_v7().to_string();
        let line = |experts: Vec<serde_json::Value>| {
            told_line(&format!("draw-{id}"), code, &request, experts)
        };
        // Whether the project may draw now, before anything is committed.
        let stand_in = json!({"id": "-", "name": "-", "phone": "13800000000"});
        let source = format!("draw:{by}");
        if let LineOutcome::Refused { refusal, .. } =
            self.check_event(&source, &line(vec![stand_in])).await?
        {
            return Err(refused(format!("不能抽取：{refusal}")));
        }
        let parties: Vec<(String, String)> =
            sqlx::query_as("SELECT role, name FROM parties WHERE project = ?")
                .bind(code)
                .fetch_all(self.pool())
                .await?;
        let on_project: Vec<String> =
            sqlx::query_scalar("SELECT id FROM parties WHERE project = ? AND role = 'expert'")
                .bind(code)
                .fetch_all(self.pool())
                .await?;
        let recent: Vec<String> = match request.recent_days {
            Some(days) => {
                let since = (chrono::Utc::now() - chrono::Duration::days(i64::from(days)))
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                // By when each draw happened (the event's own time), not
                // when this desktop received it.
                sqlx::query_scalar(
                    "SELECT DISTINCT x.value ->> '$.id' FROM events e, json_each(e.body -> '$.experts') x \
                     WHERE e.body ->> '$.type' = 'experts.drawn' \
                     AND julianday(e.body ->> '$.at') >= julianday(?) ORDER BY 1",
                )
                .bind(since)
                .fetch_all(self.pool())
                .await?
            }
            None => Vec::new(),
        };
        let candidates = self.draw_candidates(&request.codes()).await?;
        let names = parties
            .into_iter()
            .filter(|(role, _)| role != "expert")
            .map(|(_, n)| n)
            .collect();
        let inputs = Inputs::new(code, request, names, recent, on_project, candidates);
        let seed = draw::new_seed();
        let commitment = draw::commitment(&seed);

        // The commitment, before the draw.
        let at = now();
        let mut tx = self.write().await?;
        let conn = tx.conn();
        sqlx::query(
            "INSERT INTO draws (id, project, inputs, commitment, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(code)
        .bind(inputs.canonical())
        .bind(&commitment)
        .bind(&at)
        .bind(by)
        .execute(&mut *conn)
        .await?;
        let body =
            json!({"project": code, "commitment": commitment, "inputs": inputs.digest(), "by": by});
        AuditWriter::record(conn, self.device_n(), &at, COMMITTED, &id, body).await?;
        tx.commit().await?;
        Ok(Committed {
            id,
            project: code.to_owned(),
            source,
            inputs,
            seed,
        })
    }

    /// The second half: draw, tell the drawn (4.6), reveal the seed.
    pub async fn finish_draw(&self, committed: Committed) -> Result<DrawRecord> {
        let Committed {
            id,
            project,
            source,
            inputs,
            seed,
        } = committed;
        let code = project.as_str();
        let line = |experts: Vec<serde_json::Value>| {
            told_line(&format!("draw-{id}"), code, &inputs.request, experts)
        };
        let outcome = draw::draw(&inputs, &seed);
        let mut contacts = Vec::new();
        for x in outcome.as_ref().map(Outcome::drawn).unwrap_or_default() {
            let e = self.expert(&x).await?;
            contacts.push(json!({"id": e.id, "name": e.name, "phone": e.phone, "email": e.email}));
        }
        // The drawn told (4.6), the seed revealed and each drawn expert's
        // call written in one transaction: all of it or none of it. The
        // reveal stands whatever came of the draw.
        let mut tx = self.write().await?;
        let told = match &outcome {
            Ok(_) => Some(self.decide_in(&mut tx, &source, &line(contacts)).await?),
            Err(_) => None,
        };
        let event_id = match &told {
            Some(LineOutcome::Accepted { event_id, .. }) => Some(event_id.clone()),
            Some(_) => {
                // Refused: nothing of the event is kept, only the reveal.
                tx.rollback().await?;
                tx = self.write().await?;
                None
            }
            None => None,
        };
        let kept = outcome.as_ref().ok().filter(|_| event_id.is_some());
        let conn = tx.conn();
        sqlx::query("UPDATE draws SET seed = ?, outcome = ?, event_id = ? WHERE id = ?")
            .bind(hex(&seed))
            .bind(kept.map(serde_json::to_string).transpose()?)
            .bind(&event_id)
            .bind(&id)
            .execute(&mut *conn)
            .await?;
        // Who was drawn stays out of the trail: the outcome by its SM3.
        let body = json!({
            "seed": hex(&seed),
            "outcome": kept.map(|o| ggzy_core::audit::sm3_hex(serde_json::to_string(o).expect("plain values"))),
            "event": event_id,
        });
        let at = now();
        AuditWriter::record(conn, self.device_n(), &at, REVEALED, &id, body).await?;
        // Each drawn expert is now called, waiting for an answer.
        if let (Some(o), Some(event_id)) = (kept, &event_id) {
            let mut seq = 0;
            for pick in &o.picks {
                for expert in &pick.drawn {
                    seq += 1;
                    let call = CallRow::new(&id, seq, expert, &pick.code, event_id, &at);
                    write_call(conn, self.device_n(), &call, &at).await?;
                }
            }
        }
        tx.commit().await?;
        match (outcome, told) {
            (Err(DrawError::Short(s)), _) => Err(refused(format!("抽取未能完成：{s}"))),
            (Err(e), _) => Err(refused(e.to_string())),
            (Ok(_), Some(LineOutcome::Refused { refusal, .. })) => {
                Err(refused(format!("抽取结果未能通知：{refusal}")))
            }
            (Ok(_), _) => self.draw(&id).await,
        }
    }

    /// A project's draws, newest first.
    pub async fn project_draws(&self, project: &str) -> Result<Vec<DrawRecord>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM draws WHERE project = ? ORDER BY created_at DESC, id DESC",
        )
        .bind(project)
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::new();
        for id in ids {
            out.push(self.draw(&id).await?);
        }
        Ok(out)
    }

    pub async fn draw(&self, id: &str) -> Result<DrawRecord> {
        type Row = (
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            String,
            String,
        );
        let (id, project, commitment, seed, outcome, event_id, created_at, created_by): Row =
            sqlx::query_as(
                "SELECT id, project, commitment, seed, outcome, event_id, created_at, created_by FROM draws WHERE id = ?",
            )
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("没有编号为 `{id}` 的抽取")))?;
        Ok(DrawRecord {
            outcome: outcome.map(|o| serde_json::from_str(&o)).transpose()?,
            id,
            project,
            commitment,
            seed,
            event_id,
            created_at,
            created_by,
        })
    }

    /// Re-run a recorded draw from its recorded inputs and revealed seed:
    /// the inputs must be the ones audited at the commitment, the seed the
    /// one committed to, and the outcome the one recorded.
    pub async fn verify_draw(&self, id: &str) -> Result<DrawCheck> {
        let record = self.draw(id).await?;
        let inputs_text: String = sqlx::query_scalar("SELECT inputs FROM draws WHERE id = ?")
            .bind(id)
            .fetch_one(self.pool())
            .await?;
        let audited: Option<(String, String)> = sqlx::query_as(
            "SELECT content ->> '$.inputs', content ->> '$.commitment' FROM audit_records \
             WHERE content ->> '$.kind' = ? AND content ->> '$.subject' = ?",
        )
        .bind(COMMITTED)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        let mut problems = Vec::new();
        let Some((inputs_digest, committed)) = audited else {
            problems.push("审计记录中没有本次抽取的承诺值（draw.committed）".to_owned());
            return Ok(DrawCheck {
                id: id.to_owned(),
                problems,
            });
        };
        if ggzy_core::audit::sm3_hex(&inputs_text) != inputs_digest {
            problems.push("记录的抽取条件与抽取前审计的摘要不符（抽取条件被改动）".to_owned());
        }
        if record.commitment != committed {
            problems.push("记录的承诺值与审计记录不符".to_owned());
        }
        let Some(seed_hex) = &record.seed else {
            problems.push("随机种子尚未公开".to_owned());
            return Ok(DrawCheck {
                id: id.to_owned(),
                problems,
            });
        };
        let Some(seed) = ggzy_core::audit::unhex(seed_hex) else {
            problems.push(format!(
                "公开的随机种子 `{seed_hex}` 不是 32 字节的十六进制"
            ));
            return Ok(DrawCheck {
                id: id.to_owned(),
                problems,
            });
        };
        if draw::commitment(&seed) != committed {
            problems.push("公开的随机种子与抽取前的承诺值不符".to_owned());
        }
        match serde_json::from_str::<Inputs>(&inputs_text) {
            Err(e) => problems.push(format!("记录的抽取条件无法读取：{e}")),
            Ok(inputs) => match (draw::draw(&inputs, &seed), &record.outcome) {
                (Ok(again), Some(was)) => {
                    for (a, w) in again.picks.iter().zip(&was.picks) {
                        if a.drawn != w.drawn {
                            problems.push(format!(
                                "专业 {} 重新抽取为 {:?}，记录为 {:?}",
                                a.code, a.drawn, w.drawn
                            ));
                        }
                        if a.backups != w.backups {
                            problems.push(format!(
                                "专业 {} 的备选专家重新抽取为 {:?}，记录为 {:?}",
                                a.code, a.backups, w.backups
                            ));
                        }
                    }
                    if again.picks.len() != was.picks.len() || again.excluded != was.excluded {
                        problems.push("重新抽取的专业或回避统计与记录不符".to_owned());
                    }
                }
                (Ok(_), None) => problems.push("记录中没有抽取结果，重新抽取却有结果".to_owned()),
                (Err(e), Some(_)) => {
                    problems.push(format!("重新抽取未能完成（{e}），记录却有结果"))
                }
                (Err(_), None) => {}
            },
        }
        Ok(DrawCheck {
            id: id.to_owned(),
            problems,
        })
    }
}
