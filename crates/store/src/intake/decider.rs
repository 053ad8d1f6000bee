//! The decider: decides lines with no IO, holding the project cache between
//! transactions and what was read for the current one.

use super::writes::{build_projects, Pending, ProjectRow};
use super::*;

/// Decides lines with no IO. Holds the project cache between transactions,
/// and what was read for the current transaction.
#[derive(Default)]
pub(super) struct Decider {
    pub(super) reevaluate: bool,
    /// Whose lines: a person's role limits the types (`event::may_record`).
    pub(super) by: Option<StaffRole>,
    /// The product's own lines: the only ones that may carry its own types.
    pub(super) own: bool,
    /// Where the lines come from, as events record it.
    pub(super) source: String,
    pub(super) projects: HashMap<String, Project>,
    pub(super) staff: Directory,
    pub(super) center: Center,
    pub(super) rules: ContactRules,
    pub(super) audit: Option<AuditWriter>,
    /// Event id -> digest: stored before this transaction or accepted in it,
    /// and accepted in the one before (which may still be committing).
    pub(super) stored: HashMap<String, Hash>,
    pub(super) stored_before: HashMap<String, Hash>,
    /// Members and complaints the transaction refers to (`None`: not known).
    pub(super) members: HashMap<String, Option<MemberRecord>>,
    pub(super) complaints: HashMap<String, Option<(ComplaintRecord, String)>>,
    /// Open rejects by the SM3 of their line.
    pub(super) kept: HashMap<String, (i64, String)>,
    /// Projects this transaction touched: the ones kept when the cache is trimmed.
    pub(super) touched: HashSet<String>,
    /// The numbers the next event and the next message get.
    pub(super) next_event: i64,
    pub(super) next_message: i64,
    pub(super) at: String,
}

impl Decider {
    /// Start from what is stored: drop the cache if someone else wrote since.
    pub(super) async fn begin(
        &mut self,
        conn: &mut SqliteConnection,
        seen_version: &mut Option<i64>,
        device: i64,
    ) -> Result<()> {
        let version = data_version(conn).await?;
        if *seen_version != Some(version) {
            self.projects.clear();
            self.staff = crate::users::directory(conn).await?;
            self.center = crate::settings::center(conn).await?;
            self.rules = crate::settings::contact_rules(conn).await?;
            *seen_version = Some(version);
        }
        // (The cache was trimmed when the last transaction ended: `end_tx`.)
        self.touched.clear();
        self.stored.clear();
        self.stored_before.clear();
        self.members.clear();
        self.complaints.clear();
        self.kept.clear();
        self.audit = Some(AuditWriter::load(conn, device).await?);
        let next = |table| format!("SELECT coalesce(max(no), 0) + 1 FROM {table}");
        self.next_event = sqlx::query_scalar(&next("events"))
            .fetch_one(&mut *conn)
            .await?;
        self.next_message = sqlx::query_scalar(&next("messages"))
            .fetch_one(&mut *conn)
            .await?;
        self.at = now();
        Ok(())
    }

    /// Close the transaction in memory and move on to the next: what the
    /// closing one must still write is returned.
    pub(super) fn end_tx(&mut self) -> TxEnd {
        let projects = self.project_rows(self.touched.iter(), &mut HashMap::new());
        if self.projects.len() > CACHE_CAP {
            // Keep the projects still in motion; the others are read again when needed.
            let touched = &self.touched;
            self.projects.retain(|code, _| touched.contains(code));
        }
        self.touched.clear();
        self.stored_before = std::mem::take(&mut self.stored);
        let (seq, hash) = self.audit.as_ref().expect("begun").head();
        TxEnd {
            at: std::mem::replace(&mut self.at, now()),
            projects,
            seq,
            hash,
        }
    }

    /// Read everything the lines refer to, in a few queries.
    pub(super) async fn prefetch(
        &mut self,
        conn: &mut SqliteConnection,
        parsed: &[Parsed],
    ) -> Result<()> {
        let envs: Vec<&Envelope> = parsed
            .iter()
            .filter_map(|(_, _, p)| p.as_ref().ok())
            .collect();
        let ids: Vec<&str> = envs.iter().map(|e| e.id.as_str()).collect();
        for chunk in ids.chunks(500) {
            let mut qb: QueryBuilder<'_, Sqlite> =
                QueryBuilder::new("SELECT id, digest FROM events WHERE id IN ");
            qb.push_tuples(chunk, |mut b, id| {
                b.push_bind(*id);
            });
            let rows: Vec<(String, Vec<u8>)> = qb.build_query_as().fetch_all(&mut *conn).await?;
            // A digest that is not 32 bytes matches nothing: the line is refused as a conflict.
            let rows = rows
                .into_iter()
                .map(|(id, d)| (id, d.try_into().unwrap_or_default()));
            self.stored.extend(rows);
        }
        let codes: Vec<&str> = envs
            .iter()
            .filter_map(|e| e.project.as_deref())
            .filter(|c| !self.projects.contains_key(*c))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        for project in load_projects(conn, &codes).await? {
            self.projects.insert(project.code.clone(), project);
        }
        for username in envs.iter().filter_map(|e| member_username(&e.body)) {
            if self.members.contains_key(username) {
                continue;
            }
            let row: Option<(String, String)> =
                sqlx::query_as("SELECT party, status FROM members WHERE username = ?")
                    .bind(username)
                    .fetch_optional(&mut *conn)
                    .await?;
            let member = row
                .map(|(party, status)| -> Result<MemberRecord> {
                    Ok(MemberRecord {
                        party: serde_json::from_str(&party)?,
                        status: serde_json::from_value(status.into())?,
                    })
                })
                .transpose()?;
            self.members.insert(username.to_owned(), member);
        }
        for id in envs.iter().filter_map(|e| complaint_id(&e.body)) {
            if self.complaints.contains_key(id) {
                continue;
            }
            let row: Option<(String, String)> =
                sqlx::query_as("SELECT record, lodged_at FROM complaints WHERE id = ?")
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await?;
            let complaint = row
                .map(|(r, at)| serde_json::from_str(&r).map(|c| (c, at)))
                .transpose()?;
            self.complaints.insert(id.to_owned(), complaint);
        }
        if !self.reevaluate {
            let raws = parsed.iter().map(|(_, raw, _)| raw.as_str());
            self.kept = crate::rejects::open_by_digest(conn, raws).await?;
        }
        Ok(())
    }

    /// The projection rows of these projects, as they stand now.
    pub(super) fn project_rows<'a>(
        &self,
        codes: impl Iterator<Item = &'a String>,
        registered_at: &mut HashMap<String, String>,
    ) -> Vec<ProjectRow> {
        codes
            .map(|code| {
                let project = &self.projects[code];
                ProjectRow {
                    code: code.clone(),
                    name: project.name.clone(),
                    stage: project.progress.current.map(|(s, _)| s.as_str()),
                    progress: serde_json::to_string(&project.progress)
                        .expect("progress serialises"),
                    registered_at: registered_at.remove(code).unwrap_or_default(),
                    filing_pending: project.filing_pending(),
                    materials_pending: project.materials_pending(),
                    refund_pending: project.refund_pending(),
                }
            })
            .collect()
    }

    /// Decide a slice of lines, in order.
    pub(super) fn decide_all(
        &mut self,
        slice: Vec<Parsed>,
        device: i64,
    ) -> (Vec<LineResult>, Pending) {
        let mut p = Pending {
            at: self.at.clone(),
            ..Pending::default()
        };
        let mut dirty: Vec<String> = Vec::new();
        let mut registered_at: HashMap<String, String> = HashMap::new();
        let results = slice
            .into_iter()
            .map(|(line, raw, parsed)| {
                let outcome =
                    self.decide_line(&raw, parsed, &mut p, &mut dirty, &mut registered_at);
                if let LineOutcome::Refused { .. } = &outcome {
                    if !matches!(
                        outcome,
                        LineOutcome::Refused {
                            refusal: Refusal::AlreadyRefused { .. },
                            ..
                        }
                    ) {
                        let refused = LineResult {
                            line,
                            outcome: outcome.clone(),
                        };
                        p.rejects.extend(Kept::of(refused, raw));
                    }
                }
                LineResult { line, outcome }
            })
            .collect();
        // A project registered here gets its row now (its parties point at it);
        // the others are written once, when the transaction ends.
        let projects = self.project_rows(dirty.iter(), &mut registered_at);
        let audit = self.audit.as_mut().expect("begun");
        if !p.rejects.is_empty() {
            let body = crate::rejects::kept_record(&p.rejects);
            audit.append(&p.at, crate::rejects::KEPT, &self.source, body);
        }
        let audit = audit.take_pending();
        let b = &mut p.built;
        build_events(
            b,
            std::mem::take(&mut p.events),
            &self.source,
            device,
            &p.at,
        );
        build_projects(b, projects, &p.at);
        build_rows(
            b,
            "INSERT INTO parties (project, role, id, name, phone, email, prefer, position) ",
            "",
            std::mem::take(&mut p.parties),
            |mut b, (code, pp, position)| {
                b.push_bind(code)
                    .push_bind(pp.role.as_str())
                    .push_bind(pp.party.id)
                    .push_bind(pp.party.name)
                    .push_bind(pp.party.phone)
                    .push_bind(pp.party.email)
                    .push_bind(pp.party.prefer.map(|r| r.as_str()))
                    .push_bind(position);
            },
        );
        build_messages(b, std::mem::take(&mut p.messages));
        build_pushes(b, std::mem::take(&mut p.pushes));
        build_audit(b, device, audit);
        (results, p)
    }

    pub(super) fn decide_line(
        &mut self,
        raw: &str,
        parsed: std::result::Result<Envelope, Refusal>,
        p: &mut Pending,
        dirty: &mut Vec<String>,
        registered_at: &mut HashMap<String, String>,
    ) -> LineOutcome {
        // Hashing a line costs as much as deciding it: only when there is something to find.
        let kept = (!self.kept.is_empty())
            .then(|| self.kept.get(&sm3_hex(raw)))
            .flatten();
        if let Some((reject, reason)) = kept {
            let refusal = Refusal::AlreadyRefused {
                reject: *reject,
                reason: reason.clone(),
            };
            return LineOutcome::Refused {
                event_id: peek_id(raw),
                refusal,
            };
        }
        let env = match parsed.and_then(|env| match (self.by, self.own) {
            (_, true) => Ok(env),
            (Some(role), false) => may_record(role, env.kind).map(|()| env),
            (None, false) => may_import(env.kind).map(|()| env),
        }) {
            Ok(env) => env,
            Err(refusal) => {
                return LineOutcome::Refused {
                    event_id: peek_id(raw),
                    refusal,
                }
            }
        };
        let digest = sm3(&env.canonical);
        let seen = self.stored.get(&env.id);
        if let Some(seen) = seen.or_else(|| self.stored_before.get(&env.id)) {
            return if *seen == digest {
                LineOutcome::Duplicate { event_id: env.id }
            } else {
                LineOutcome::Refused {
                    event_id: Some(env.id.clone()),
                    refusal: Refusal::IdConflict(env.id),
                }
            };
        }

        // What the event refers to. The project is taken out of the cache,
        // not copied; the decision puts it (or its next state) back.
        let mut known = Known::default();
        if let Some(code) = &env.project {
            known.project = self.projects.remove(code);
            known.project_known = known.project.is_some();
        }
        if let Some(username) = member_username(&env.body) {
            known.member = self.members.get(username).cloned().flatten();
        }
        if let Some(id) = complaint_id(&env.body) {
            known.complaint = self.complaints.get(id).cloned().flatten().map(|(c, _)| c);
        }
        let ctx = Context {
            center: &self.center,
            staff: &self.staff,
            rules: &self.rules,
        };
        let decision = decide(&env, &known, &ctx);
        let moved_on = matches!(&decision, Ok(d) if matches!(d.change, Change::Project { .. }));
        if let (Some(project), false) = (known.project, moved_on) {
            self.projects.insert(project.code.clone(), project);
        }
        let decision = match decision {
            Ok(d) => d,
            Err(refusal) => {
                return LineOutcome::Refused {
                    event_id: Some(env.id.clone()),
                    refusal,
                }
            }
        };

        let audit = self.audit.as_mut().expect("begun");
        let seq = audit.next_seq();
        let event_no = self.next_event;
        self.next_event += 1;
        // Recipients that read alike share one message.
        let mut messages: Vec<(i64, Message, Hash)> = Vec::new();
        let mut digests = Vec::with_capacity(decision.pushes.len());
        let pushes: Vec<PushRow> = decision
            .pushes
            .into_iter()
            .map(|d| {
                let id = d.key(&env.id, &env.at);
                let at = match messages.iter().position(|(_, m, _)| *m == d.message) {
                    Some(at) => at,
                    None => {
                        let body = sm3(&d.message.body);
                        messages.push((self.next_message, d.message, body));
                        self.next_message += 1;
                        messages.len() - 1
                    }
                };
                let (message, m, body) = &messages[at];
                let row = PushRow {
                    id,
                    event: event_no,
                    rule: d.rule,
                    role: d.recipient.role.as_str(),
                    recipient_id: d.recipient.id,
                    recipient_name: d.recipient.name,
                    channel: d.channel.as_str(),
                    address: d.address,
                    message: *message,
                    secret: d.secret.map(|s| s.as_str()),
                };
                digests.push(row.digest(&env.id, &m.head, body));
                row
            })
            .collect();
        let n = pushes.len();
        audit.append_event(&self.at, &env.id, &digest, digests, &decision.silenced);
        p.messages
            .extend(messages.into_iter().map(|(no, m, _)| (no, m)));
        p.pushes.extend(pushes);

        match decision.change {
            Change::Project {
                project,
                added,
                registered,
            } => {
                let first = (project.parties.len() - added.len()) as i64;
                for (i, party) in added.into_iter().enumerate() {
                    p.parties
                        .push((project.code.clone(), party, first + i as i64));
                }
                if registered {
                    registered_at.insert(project.code.clone(), env.at.to_rfc3339());
                    dirty.push(project.code.clone());
                }
                self.touched.insert(project.code.clone());
                self.projects.insert(project.code.clone(), project);
            }
            Change::Member(m) => {
                let username = m.party.username.clone().unwrap_or_default();
                self.members.insert(username.clone(), Some(m.clone()));
                p.members.push((username, m));
            }
            Change::Complaint(c) => {
                let lodged_at = match self.complaints.get(&c.complaint.id) {
                    Some(Some((_, at))) => at.clone(),
                    _ => env.at.to_rfc3339(),
                };
                self.complaints
                    .insert(c.complaint.id.clone(), Some((c.clone(), lodged_at.clone())));
                let resolved_at = matches!(env.body, EventBody::ComplaintResolved { .. })
                    .then(|| env.at.to_rfc3339());
                p.complaints.push((c, lodged_at, resolved_at));
            }
            Change::Survey => p.surveys.push(env.clone()),
            Change::PushesOnly => {}
        }
        self.stored.insert(env.id.clone(), digest);
        p.accepted.push(env.id.clone());
        p.events.push(EventRow {
            no: event_no,
            id: env.id.clone(),
            project: env.project,
            body: env.canonical,
            digest,
            origin_seq: seq,
        });
        LineOutcome::Accepted {
            event_id: env.id,
            pushes: n,
        }
    }
}
