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
use ggzy_core::error::ErrorCode;
use ggzy_core::event::{
    decode_line, may_import, may_record, parse, peek_id, Envelope, EventBody, MAX_LINE,
};
use ggzy_core::reach::ContactRules;
use ggzy_core::render::{Center, Message};
use ggzy_core::role::StaffRole;
use ggzy_core::workflow::{Project, ProjectParty};
use ggzy_core::Refusal;
use sqlx::pool::PoolConnection;
use sqlx::{ConnectOptions, QueryBuilder, Sqlite, SqliteConnection};
use std::collections::{HashMap, HashSet};
use std::io::BufRead;

pub use crate::lines::{LineOutcome, LineResult, Summary, BATCH};

mod decider;
mod writes;
pub(crate) use crate::fold::load_projects;
use decider::Decider;
use writes::{write, write_projects, Pending, ProjectRow};
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
                        ErrorCode::ReadFailed,
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
        let mut tx = self.write().await?;
        let outcome = match self.decide_in(&mut tx, source, line).await {
            Ok(outcome) => outcome,
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

    /// One line decided and, if accepted, written in the open transaction
    /// `tx` with everything it causes, as `submit_form` would: the caller
    /// commits it together with writes of its own, or rolls it all back.
    pub(crate) async fn decide_in(
        &self,
        tx: &mut WriteTx,
        source: &str,
        line: &str,
    ) -> Result<LineOutcome> {
        let mut intake = self.retrying_intake(source);
        let (mut results, _) = intake
            .run_in(
                tx,
                std::iter::once(Ok(text_line(1, line))),
                usize::MAX,
                &mut |_, _| {},
            )
            .await?;
        Ok(results.remove(0).outcome)
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
