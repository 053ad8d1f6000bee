//! Intake: lines of the intake contract in; events, their pushes and their
//! audit records out. Lines are taken in transactions of up to `BATCH`
//! lines. An event is accepted whole or not at all: a refused line writes
//! nothing but its reject row, and a failed transaction writes nothing.
//!
//! An import is decided a slice at a time on a blocking thread, which reads
//! what the lines refer to, decides them and builds their INSERT statements,
//! running a few slices ahead of the writer; the writer writes them in order
//! and commits each transaction while the thread goes on, so both cores are
//! busy.

use crate::audit::{build_audit, AuditWriter};
use crate::rejects::Kept;
use crate::rows::{
    build_events, build_messages, build_pushes, build_rows, run, Built, EventRow, PushRow,
};
use crate::{now, Result, Store, StoreError, WriteTx};
use ggzy_core::audit::{sm3, sm3_hex, Hash};
use ggzy_core::engine::{
    complaint_id, decide, member_username, Change, ComplaintRecord, Context, Directory, Known,
    MemberRecord,
};
use ggzy_core::event::{
    decode_line, may_import, may_record, parse, peek_id, Envelope, EventBody, Party, MAX_LINE,
};
use ggzy_core::reach::{ContactRules, Reach};
use ggzy_core::render::{Center, Message};
use ggzy_core::role::Role;
use ggzy_core::role::StaffRole;
use ggzy_core::workflow::{Progress, Project, ProjectParty};
use ggzy_core::Refusal;
use sqlx::pool::PoolConnection;
use sqlx::{ConnectOptions, QueryBuilder, Sqlite, SqliteConnection};
use std::collections::{HashMap, HashSet};
use std::io::BufRead;
use std::sync::Arc;

pub use crate::lines::{LineOutcome, LineResult, Summary, BATCH};
/// Lines decided at a time inside a transaction.
const SLICE: usize = 1000;
/// Projects kept in memory between transactions (each with all its parties).
const CACHE_CAP: usize = 1_000;

/// A writer of intake lines; keeps its connection and a cache of projects
/// between transactions, and drops the cache whenever someone else wrote.
pub struct Intake<'s> {
    store: &'s Store,
    source: String,
    conn: Option<PoolConnection<Sqlite>>,
    decider: Option<Decider>,
    data_version: Option<i64>,
    reevaluate: bool,
    /// The role of the person whose lines these are; `None` for the system
    /// intake (the e-trading system, an operator's CLI), which takes every type.
    by: Option<StaffRole>,
    /// The product's own lines (`event::OWN_TYPES`), which no intake may carry.
    own: bool,
}

impl Store {
    /// An intake for a file: a line identical to an open reject is reported
    /// as already refused, so importing a file twice changes nothing.
    pub fn intake(&self, source: &str) -> Intake<'_> {
        self.intake_with(source, false)
    }

    /// An intake that checks again lines refused before (retry, a person's action).
    pub(crate) fn retrying_intake(&self, source: &str) -> Intake<'_> {
        self.intake_with(source, true)
    }

    fn intake_with(&self, source: &str, reevaluate: bool) -> Intake<'_> {
        Intake {
            store: self,
            source: source.to_owned(),
            conn: None,
            decider: None,
            data_version: None,
            reevaluate,
            by: None,
            own: false,
        }
    }

    /// Import intake lines from a reader, streaming, `BATCH` lines a transaction.
    /// `progress(lines_done)` is called after each transaction commits.
    pub async fn import(
        &self,
        reader: impl BufRead,
        source: &str,
        progress: impl FnMut(u64),
    ) -> Result<Summary> {
        self.import_with(reader, source, BATCH, None, progress)
            .await
    }

    /// `import` by a person: a line of a type their role does not record is
    /// refused, naming the role that does (and kept, as any refused line).
    pub async fn import_by(
        &self,
        reader: impl BufRead,
        source: &str,
        by: StaffRole,
        progress: impl FnMut(u64),
    ) -> Result<Summary> {
        self.import_with(reader, source, BATCH, Some(by), progress)
            .await
    }

    /// `import` in transactions of `batch` lines, by a person's role or the system (`None`).
    pub async fn import_with(
        &self,
        mut reader: impl BufRead,
        source: &str,
        batch: usize,
        by: Option<StaffRole>,
        mut progress: impl FnMut(u64),
    ) -> Result<Summary> {
        let mut line_no = 0u64;
        let mut buf = Vec::new();
        let lines = std::iter::from_fn(move || loop {
            match read_line_bounded(&mut reader, &mut buf) {
                Err(e) => {
                    return Some(Err(StoreError::invalid(
                        "read_failed",
                        format!("读取输入第 {} 行失败：{e}", line_no + 1),
                    )))
                }
                Ok(None) => return None,
                Ok(Some(cut)) => {
                    line_no += 1;
                    let bytes = match buf.strip_prefix(BOM) {
                        Some(rest) if line_no == 1 => rest,
                        _ => &buf[..],
                    };
                    let unreadable = if cut {
                        Some(Refusal::TooLong { max: MAX_LINE })
                    } else {
                        decode_line(bytes).err()
                    };
                    // What is kept of a line that is no text: its bytes as
                    // far as they go, bounded by the cut.
                    let text = String::from_utf8_lossy(bytes).trim().to_owned();
                    if !text.is_empty() || unreadable.is_some() {
                        return Some(Ok((line_no, text, unreadable)));
                    }
                }
            }
        });
        let mut summary = Summary::default();
        self.intake(source)
            .by(by)
            .run(lines, batch.max(1), |results, last_line| {
                summary.add(results);
                progress(last_line);
            })
            .await?;
        Ok(summary)
    }

    /// Accept one event (the desktop app's actions): the same path as import.
    pub async fn submit_event(&self, source: &str, line: &str) -> Result<LineOutcome> {
        let mut results = self
            .retrying_intake(source)
            .submit(vec![text_line(1, line)])
            .await?;
        Ok(results.remove(0).outcome)
    }

    /// Record one of the product's own events (`event::OWN_TYPES`), which
    /// every intake refuses: the same path as import otherwise.
    pub(crate) async fn submit_own(&self, source: &str, line: &str) -> Result<LineOutcome> {
        let mut intake = self.retrying_intake(source);
        intake.own = true;
        let mut results = intake.submit(vec![text_line(1, line)]).await?;
        Ok(results.remove(0).outcome)
    }

    /// What one event would come to, with nothing kept: it is decided and
    /// written as `submit_event` would, then rolled back (a person's form is
    /// checked before it is sent, so a refused one leaves no reject behind).
    pub async fn check_event(&self, source: &str, line: &str) -> Result<LineOutcome> {
        self.decide_once(source, line, false).await
    }

    /// A person's form: decided once, in one transaction, committed when
    /// accepted and rolled back otherwise, so a refused form (corrected on
    /// the screen it came from) leaves no reject behind.
    pub async fn submit_form(&self, source: &str, line: &str) -> Result<LineOutcome> {
        self.decide_once(source, line, true).await
    }

    async fn decide_once(&self, source: &str, line: &str, keep: bool) -> Result<LineOutcome> {
        let mut intake = self.retrying_intake(source);
        let mut tx = self.write().await?;
        let decided = intake
            .run_in(
                &mut tx,
                std::iter::once(Ok(text_line(1, line))),
                usize::MAX,
                &mut |_, _| {},
            )
            .await;
        let outcome = match decided {
            Ok((mut results, _)) => results.remove(0).outcome,
            Err(e) => {
                tx.rollback().await?;
                return Err(e);
            }
        };
        if keep && matches!(outcome, LineOutcome::Accepted { .. }) {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(outcome)
    }
}

type Parsed = (u64, String, std::result::Result<Envelope, Refusal>);

fn parse_slice(lines: Vec<Line>) -> Vec<Parsed> {
    lines
        .into_iter()
        .map(|(n, raw, unreadable)| {
            let p = match unreadable {
                Some(refusal) => Err(refusal),
                None => parse(&raw),
            };
            (n, raw, p)
        })
        .collect()
}

/// An input line: its number, its text, and why it is no line of text
/// (too long, not UTF-8) if so: then its text is what is kept of it.
type Line = (u64, String, Option<Refusal>);

/// A line of text to decide, numbered.
fn text_line(no: u64, text: impl Into<String>) -> Line {
    (no, text.into(), None)
}

/// The UTF-8 byte order mark some editors put at the start of a file.
const BOM: &[u8] = b"\xef\xbb\xbf";

/// Read the next line's bytes into `buf`, without its newline, keeping at
/// most `MAX_LINE + 1` of them however long it runs (a file with no line
/// breaks never fills memory): `None` at the end, else whether it was cut.
fn read_line_bounded(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<bool>> {
    buf.clear();
    let (mut any, mut cut) = (false, false);
    loop {
        let chunk = match reader.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok(any.then_some(cut));
        }
        any = true;
        let end = memchr::memchr(b'\n', chunk);
        let part = &chunk[..end.unwrap_or(chunk.len())];
        let room = (MAX_LINE + 1).saturating_sub(buf.len());
        cut |= part.len() > room;
        buf.extend_from_slice(&part[..part.len().min(room)]);
        let used = end.map_or(chunk.len(), |i| i + 1);
        reader.consume(used);
        if end.is_some() {
            return Ok(Some(cut));
        }
    }
}

/// Lines decided together, and where they stand in the transactions.
struct Slice {
    lines: Vec<Line>,
    /// The last slice of its transaction.
    closes: bool,
    /// The last slice of the input.
    last: bool,
}

/// Lines a slice at a time, each slice marked when it closes its transaction.
struct Slices<I: Iterator> {
    lines: std::iter::Peekable<I>,
    batch: usize,
    in_tx: usize,
}

impl<I: Iterator<Item = Result<Line>>> Slices<I> {
    fn next(&mut self) -> Result<Option<Slice>> {
        let mut lines = Vec::new();
        while lines.len() < SLICE && self.in_tx < self.batch {
            match self.lines.next() {
                Some(line) => lines.push(line?),
                None => break,
            }
            self.in_tx += 1;
        }
        if lines.is_empty() {
            return Ok(None);
        }
        let last = self.lines.peek().is_none();
        let closes = self.in_tx >= self.batch || last;
        if closes {
            self.in_tx = 0;
        }
        Ok(Some(Slice {
            lines,
            closes,
            last,
        }))
    }
}

/// Decided slices that may wait for the writer.
const AHEAD: usize = 3;

/// A slice decided ahead, waiting to be written.
struct Decided {
    results: Vec<LineResult>,
    pending: Pending,
    /// Set when the slice closes its transaction.
    end: Option<TxEnd>,
    last: bool,
    /// The slice itself, kept while the transaction before it is still to be
    /// committed: if someone else writes in between, it is decided again.
    again: Option<Slice>,
}

/// The deciding thread: parse, read what the lines refer to (through its own
/// connection: what this import has not committed yet is in the decider's
/// memory), decide, and hand the slices to the writer in order. It never
/// runs more than one transaction ahead of the last commit, as its memory
/// covers only the transaction it decides and the one before. Returns the
/// decider and the slices it was given but did not take.
fn decide_ahead(
    mut decider: Decider,
    mut reader: SqliteConnection,
    feed: std::sync::mpsc::Receiver<Slice>,
    out: tokio::sync::mpsc::Sender<Result<Decided>>,
    commits: std::sync::mpsc::Receiver<()>,
    device: i64,
) -> (Decider, std::sync::mpsc::Receiver<Slice>) {
    let rt = tokio::runtime::Handle::current();
    // Transactions this thread ended, and those the writer has committed since it began.
    let (mut ended, mut committed) = (0u64, 0u64);
    loop {
        while ended > committed + 1 {
            if commits.recv().is_err() {
                return (decider, feed);
            }
            committed += 1;
        }
        committed += commits.try_iter().count() as u64;
        let Ok(slice) = feed.recv() else {
            return (decider, feed);
        };
        let again = (ended > committed).then(|| Slice {
            lines: slice.lines.clone(),
            ..slice
        });
        let parsed = parse_slice(slice.lines);
        let decided = rt
            .block_on(decider.prefetch(&mut reader, &parsed))
            .map(|()| {
                let (results, pending) = decider.decide_all(parsed, device);
                let end = slice.closes.then(|| {
                    ended += 1;
                    decider.end_tx()
                });
                Decided {
                    results,
                    pending,
                    end,
                    last: slice.last,
                    again,
                }
            });
        let failed = decided.is_err();
        if out.blocking_send(decided).is_err() || failed {
            return (decider, feed);
        }
    }
}

impl Intake<'_> {
    /// Lines recorded by a person of this role (`None`: the system intake).
    pub(crate) fn by(mut self, by: Option<StaffRole>) -> Self {
        self.by = by;
        self
    }

    /// The deciding thread's own connection, which can only read.
    async fn reader(&self) -> Result<SqliteConnection> {
        let options = (*self.store.pool().connect_options()).clone();
        Ok(options.read_only(true).connect().await?)
    }

    /// Submit lines `(line number, text)` in one transaction.
    pub async fn submit(&mut self, lines: Vec<Line>) -> Result<Vec<LineResult>> {
        let mut out = Vec::with_capacity(lines.len());
        self.run(lines.into_iter().map(Ok), usize::MAX, |results, _| {
            out.extend(results)
        })
        .await?;
        Ok(out)
    }

    /// Take lines in transactions of up to `batch` lines. `committed(results,
    /// last line)` hears of each transaction once it is committed; an error
    /// rolls back the open transaction and leaves the committed ones.
    async fn run(
        &mut self,
        lines: impl Iterator<Item = Result<Line>>,
        batch: usize,
        mut committed: impl FnMut(Vec<LineResult>, u64),
    ) -> Result<()> {
        let mut tx = self.store.write_on(self.conn.take()).await?;
        match self.run_in(&mut tx, lines, batch, &mut committed).await {
            Ok((results, last_line)) => {
                self.conn = Some(tx.commit_keep().await?);
                committed(results, last_line);
                Ok(())
            }
            Err(e) => {
                // The cache may hold what was rolled back: start afresh.
                self.data_version = None;
                if let Ok(c) = tx.rollback().await {
                    self.conn = Some(c);
                }
                Err(e)
            }
        }
    }

    /// The loop of `run`. One slice (the app's one event) is decided in
    /// place; more are decided on a blocking thread up to `AHEAD` slices
    /// ahead of the writer, which writes them in order and commits each
    /// transaction while the thread goes on. If someone else wrote between
    /// two transactions, what was decided ahead is decided again on what
    /// they wrote.
    pub(crate) async fn run_in(
        &mut self,
        tx: &mut WriteTx,
        lines: impl Iterator<Item = Result<Line>>,
        batch: usize,
        committed: &mut impl FnMut(Vec<LineResult>, u64),
    ) -> Result<(Vec<LineResult>, u64)> {
        let device = self.store.device_n();
        let mut decider = self.decider.take().unwrap_or_default();
        decider.reevaluate = self.reevaluate;
        decider.by = self.by;
        decider.own = self.own;
        decider.source.clone_from(&self.source);
        decider
            .begin(tx.conn(), &mut self.data_version, device)
            .await?;
        let mut slices = Slices {
            lines: lines.peekable(),
            batch,
            in_tx: 0,
        };
        let mut queue = std::collections::VecDeque::new();
        match slices.next()? {
            Some(slice) if slice.last => {
                let parsed = parse_slice(slice.lines);
                decider.prefetch(tx.conn(), &parsed).await?;
                let (results, pending) = decider.decide_all(parsed, device);
                write(tx.conn(), pending, &self.source).await?;
                decider.end_tx().write(tx.conn(), device).await?;
                self.decider = Some(decider);
                let last_line = results.last().map_or(0, |r| r.line);
                return Ok((results, last_line));
            }
            Some(slice) => queue.push_back(slice),
            None => {
                decider.end_tx().write(tx.conn(), device).await?;
                self.decider = Some(decider);
                return Ok((Vec::new(), 0));
            }
        }
        // Results of the open transaction, and its last line.
        let mut results = Vec::new();
        let mut last_line = 0;
        loop {
            let (feed, feed_rx) = std::sync::mpsc::channel();
            let (out, mut decided) = tokio::sync::mpsc::channel(AHEAD);
            let (commits, commits_rx) = std::sync::mpsc::channel();
            let reader = self.reader().await?;
            let task = tokio::task::spawn_blocking(move || {
                decide_ahead(decider, reader, feed_rx, out, commits_rx, device)
            });
            let mut fed = 0;
            let mut stale = false;
            loop {
                // Memory stays flat however big the input: a few slices read ahead.
                while fed < 2 * AHEAD {
                    let Some(slice) = queue
                        .pop_front()
                        .map(Ok)
                        .or_else(|| slices.next().transpose())
                    else {
                        break;
                    };
                    let _ = feed.send(slice?);
                    fed += 1;
                }
                let d = decided.recv().await.expect("deciding never panics")?;
                fed -= 1;
                write(tx.conn(), d.pending, &self.source).await?;
                last_line = d.results.last().map_or(last_line, |r| r.line);
                results.extend(d.results);
                let Some(end) = d.end else { continue };
                end.write(tx.conn(), device).await?;
                if d.last {
                    break;
                }
                tx.renew(|| committed(std::mem::take(&mut results), last_line))
                    .await?;
                if Some(data_version(tx.conn()).await?) != self.data_version {
                    stale = true;
                    break;
                }
                let _ = commits.send(());
            }
            drop((feed, commits));
            // Slices decided ahead but not written: decided again, if anything.
            let mut again = std::collections::VecDeque::new();
            while let Some(d) = decided.recv().await {
                again.push_back(d?.again.expect("kept until its transaction begins"));
            }
            let (d, feed_rx) = task.await.expect("deciding never panics");
            decider = d;
            if !stale {
                self.decider = Some(decider);
                return Ok((results, last_line));
            }
            again.extend(feed_rx.try_iter());
            again.append(&mut queue);
            queue = again;
            decider
                .begin(tx.conn(), &mut self.data_version, device)
                .await?;
        }
    }
}

async fn data_version(conn: &mut SqliteConnection) -> Result<i64> {
    Ok(sqlx::query_scalar("PRAGMA data_version")
        .fetch_one(&mut *conn)
        .await?)
}

/// What closes a transaction, taken from the decider as it moves on: every
/// project the transaction moved (written once) and the chain's head.
struct TxEnd {
    at: String,
    projects: Vec<ProjectRow>,
    seq: i64,
    hash: Hash,
}

impl TxEnd {
    async fn write(self, conn: &mut SqliteConnection, device: i64) -> Result<()> {
        write_projects(conn, self.projects, &self.at).await?;
        crate::audit::save_head(conn, device, self.seq, self.hash).await
    }
}

/// A project's projection row.
struct ProjectRow {
    code: String,
    name: String,
    stage: Option<&'static str>,
    progress: String,
    /// Empty: already registered.
    registered_at: String,
    filing_pending: bool,
    materials_pending: bool,
}

/// What a slice of lines decided, ready to be written: the bulk rows as
/// statements built ahead, the few others as they are.
#[derive(Default)]
struct Pending {
    at: String,
    events: Vec<EventRow>,
    messages: Vec<(i64, Message)>,
    pushes: Vec<PushRow>,
    parties: Vec<(String, ProjectParty, i64)>,
    built: Vec<Built>,
    members: Vec<(String, MemberRecord)>,
    complaints: Vec<(ComplaintRecord, String)>,
    surveys: Vec<Envelope>,
    rejects: Vec<crate::rejects::Kept>,
    accepted: Vec<String>,
}

/// Decides lines with no IO. Holds the project cache between transactions,
/// and what was read for the current transaction.
#[derive(Default)]
struct Decider {
    reevaluate: bool,
    /// Whose lines: a person's role limits the types (`event::may_record`).
    by: Option<StaffRole>,
    /// The product's own lines: the only ones that may carry its own types.
    own: bool,
    /// Where the lines come from, as events record it.
    source: String,
    projects: HashMap<String, Project>,
    staff: Directory,
    center: Center,
    rules: ContactRules,
    audit: Option<AuditWriter>,
    /// Event id -> digest: stored before this transaction or accepted in it,
    /// and accepted in the one before (which may still be committing).
    stored: HashMap<String, Hash>,
    stored_before: HashMap<String, Hash>,
    /// Members and complaints the transaction refers to (`None`: not known).
    members: HashMap<String, Option<MemberRecord>>,
    complaints: HashMap<String, Option<(ComplaintRecord, String)>>,
    /// Open rejects by the SM3 of their line.
    kept: HashMap<String, (i64, String)>,
    /// Projects this transaction touched: the ones kept when the cache is trimmed.
    touched: HashSet<String>,
    /// The numbers the next event and the next message get.
    next_event: i64,
    next_message: i64,
    at: String,
}

impl Decider {
    /// Start from what is stored: drop the cache if someone else wrote since.
    async fn begin(
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
    fn end_tx(&mut self) -> TxEnd {
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
    async fn prefetch(&mut self, conn: &mut SqliteConnection, parsed: &[Parsed]) -> Result<()> {
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
    fn project_rows<'a>(
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
                }
            })
            .collect()
    }

    /// Decide a slice of lines, in order.
    fn decide_all(&mut self, slice: Vec<Parsed>, device: i64) -> (Vec<LineResult>, Pending) {
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

    fn decide_line(
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
            known.complaint_project_known = known.project.is_some();
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
                p.complaints.push((c, lodged_at));
            }
            Change::Survey => p.surveys.push(env.clone()),
            Change::Anchor => {}
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

/// Write what a slice decided, in the open transaction.
async fn write(conn: &mut SqliteConnection, p: Pending, source: &str) -> Result<()> {
    let at = p.at;
    run(conn, p.built).await?;

    for (username, m) in &p.members {
        sqlx::query(
            "INSERT INTO members (username, party, status, updated_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (username) DO UPDATE SET party = excluded.party, status = excluded.status, \
             updated_at = excluded.updated_at",
        )
        .bind(username)
        .bind(serde_json::to_string(&m.party)?)
        .bind(serde_json::to_value(m.status)?.as_str().unwrap_or_default().to_owned())
        .bind(&at)
        .execute(&mut *conn)
        .await?;
    }
    for (c, lodged_at) in &p.complaints {
        sqlx::query(
            "INSERT INTO complaints (id, project, record, lodged_at, resolved_at) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET record = excluded.record, resolved_at = excluded.resolved_at",
        )
        .bind(&c.complaint.id)
        .bind(c.project.as_deref())
        .bind(serde_json::to_string(c)?)
        .bind(lodged_at)
        .bind(c.result.as_ref().map(|_| &at))
        .execute(&mut *conn)
        .await?;
    }
    for env in &p.surveys {
        if let EventBody::SurveyAnswered {
            respondent,
            scores,
            remarks,
        } = &env.body
        {
            sqlx::query(
                "INSERT INTO surveys (event_id, respondent, timeliness, completeness, accuracy, access, \
                 courtesy, complaint_handling, remarks, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&env.id)
            .bind(serde_json::to_string(respondent)?)
            .bind(scores.timeliness)
            .bind(scores.completeness)
            .bind(scores.accuracy)
            .bind(scores.access)
            .bind(scores.courtesy)
            .bind(scores.complaint_handling)
            .bind(remarks.as_deref())
            .bind(env.at.to_rfc3339())
            .execute(&mut *conn)
            .await?;
        }
    }
    crate::rejects::keep(conn, source, p.rejects, &at).await?;
    crate::rejects::resolve(conn, &p.accepted, &at).await?;
    Ok(())
}

/// Insert or update projection rows of projects.
async fn write_projects(
    conn: &mut SqliteConnection,
    rows: Vec<ProjectRow>,
    at: &str,
) -> Result<()> {
    let mut built = Vec::new();
    build_projects(&mut built, rows, at);
    run(conn, built).await
}

fn build_projects(out: &mut Vec<Built>, rows: Vec<ProjectRow>, at: &str) {
    build_rows(
        out,
        "INSERT INTO projects (code, name, stage, progress, registered_at, updated_at, filing_pending, materials_pending) ",
        " ON CONFLICT (code) DO UPDATE SET stage = excluded.stage, progress = excluded.progress, \
         updated_at = excluded.updated_at, filing_pending = excluded.filing_pending, \
         materials_pending = excluded.materials_pending",
        rows,
        |mut b, r| {
            b.push_bind(r.code)
                .push_bind(r.name)
                .push_bind(r.stage)
                .push_bind(r.progress)
                .push_bind(r.registered_at)
                .push_bind(at.to_owned())
                .push_bind(r.filing_pending)
                .push_bind(r.materials_pending);
        },
    );
}

/// A `parties` row: project, role, id, name, phone, email, prefer.
pub(crate) type PartyRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Load projects with their parties.
pub(crate) async fn load_projects(
    conn: &mut SqliteConnection,
    codes: &[&str],
) -> Result<Vec<Project>> {
    let mut out: Vec<Project> = Vec::new();
    for chunk in codes.chunks(500) {
        let mut qb: QueryBuilder<'_, Sqlite> =
            QueryBuilder::new("SELECT code, name, progress FROM projects WHERE code IN ");
        qb.push_tuples(chunk, |mut b, c| {
            b.push_bind(*c);
        });
        let rows: Vec<(String, String, String)> = qb.build_query_as().fetch_all(&mut *conn).await?;
        let mut found: HashMap<String, (Project, Vec<ProjectParty>)> = HashMap::new();
        for (code, name, progress) in rows {
            let progress: Progress = serde_json::from_str(&progress)?;
            let project = Project {
                code: code.clone(),
                name,
                parties: Arc::default(),
                progress,
            };
            found.insert(code, (project, Vec::new()));
        }
        if found.is_empty() {
            continue;
        }
        let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new(
            "SELECT project, role, id, name, phone, email, prefer FROM parties WHERE project IN ",
        );
        qb.push_tuples(found.keys(), |mut b, c| {
            b.push_bind(c.as_str());
        });
        qb.push(" ORDER BY project, position");
        let parties: Vec<PartyRow> = qb.build_query_as().fetch_all(&mut *conn).await?;
        for (project, role, id, name, phone, email, prefer) in parties {
            let role = Role::parse(&role)
                .ok_or_else(|| StoreError::Corrupt(format!("parties.role `{role}`")))?;
            let prefer = match prefer {
                Some(p) => Some(
                    Reach::parse(&p)
                        .ok_or_else(|| StoreError::Corrupt(format!("parties.prefer `{p}`")))?,
                ),
                None => None,
            };
            if let Some((_, list)) = found.get_mut(&project) {
                list.push(ProjectParty {
                    role,
                    party: Party {
                        id,
                        name,
                        phone,
                        email,
                        username: None,
                        prefer,
                    },
                });
            }
        }
        out.extend(found.into_values().map(|(mut p, list)| {
            p.parties = Arc::new(list);
            p
        }));
    }
    Ok(out)
}
