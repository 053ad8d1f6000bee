//! `ggzy`: the command-line door to the push engine. A public contract:
//! the e-trading system's integrators and the tests both rely on it.

use clap::{Args, Parser, Subcommand};
use ggzy_core::draw::Reply;
use ggzy_core::error::ErrorCode;
use ggzy_core::role::StaffRole;
use ggzy_dispatch::deployment::{self, SetupError};
use ggzy_store::anchor::Anchored;
use ggzy_store::intake::{LineOutcome, Summary};
use ggzy_store::pushes::PushFilter;
use ggzy_store::users::NewUser;
use ggzy_store::{Store, StoreError};
use serde_json::json;
use std::io::{BufReader, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

// Import allocates on the deciding thread and frees on SQLite's worker
// thread; mimalloc handles that cross-thread pattern far better than glibc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "ggzy",
    version,
    about = "公共资源交易信息推送台 GGZY Push: command-line tool"
)]
struct Cli {
    /// SQLite database file [default: the app's own data-directory database]
    #[arg(long, global = true, env = "GGZY_DB")]
    db: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Manage the staff directory
    #[command(subcommand)]
    User(UserCommand),
    /// Import intake events (JSON lines) from FILE, or - for standard input
    Import { file: String },
    /// List pushes, in the order they were queued
    Pushes {
        #[arg(long)]
        project: Option<String>,
        /// One JSON object per line
        #[arg(long)]
        json: bool,
    },
    /// The audit trail
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Refused input lines with their reasons
    Rejects(RejectsArgs),
    /// Center settings (center_name, center_phone, session_idle_minutes, anchor_time, anchor_recipients)
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// Seed a realistic demo center (idempotent)
    Demo,
    /// Copy the whole database to FILE, consistently, while the app may go on working
    Backup { file: PathBuf },
    /// The push dispatcher: channel configuration, and sending
    #[command(subcommand)]
    Dispatch(DispatchCommand),
    /// Send this device's records the sync server does not hold yet
    Sync(SyncArgs),
    /// The evaluation expert pool (评标专家库)
    #[command(subcommand)]
    Experts(ExpertsCommand),
    /// Expert draws (专家抽取): run one, or verify a recorded one
    #[command(subcommand)]
    Draw(DrawCommand),
}

#[derive(Subcommand)]
enum ExpertsCommand {
    /// Import a roster (CSV or .xlsx): all of it or nothing; known ids are updated
    Import { file: PathBuf },
    /// List the pool (ID numbers masked)
    List {
        /// Part of the id, name, employer or phone
        #[arg(long)]
        query: Option<String>,
        #[arg(long)]
        specialty: Option<String>,
        /// One JSON object per line
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum DrawCommand {
    /// Draw experts for a project from the pool, as FILE.json asks; the drawn are told (4.6).
    /// Connected to a sync server, the server must record the commitment first (token in GGZY_SYNC_TOKEN)
    Run {
        #[arg(long)]
        project: String,
        #[arg(long, value_name = "FILE.json")]
        request: PathBuf,
        /// One JSON object: {"id","drawn","backups","excluded","commitment","seed"}
        #[arg(long)]
        json: bool,
    },
    /// Re-run a recorded draw from its recorded inputs and seed; exit 1 naming any difference
    Verify { id: String },
    /// Record a called expert's answer; a decline calls the next backup (4.6)
    Reply {
        id: String,
        #[arg(long)]
        expert: String,
        #[arg(long, conflicts_with = "decline", required_unless_present = "decline")]
        confirm: bool,
        #[arg(long)]
        decline: bool,
    },
    /// How a draw's calls stand per specialty: called, confirmed, declined, waiting, short (never who)
    Status {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Sign an expert in at the evaluation by the ID number on their card
    SignIn {
        id: String,
        #[arg(long, value_name = "身份证号")]
        id_number: String,
    },
}

#[derive(Args)]
struct SyncArgs {
    /// The sync server, e.g. http://192.168.1.10:8790
    #[arg(long, value_name = "URL")]
    server: Option<String>,
    /// This desktop's token (`ggzy-server device add`); better given in the environment
    #[arg(long, env = "GGZY_SYNC_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// One JSON object: {"uploaded", "handed", "downloaded", "conflicts", "waiting", "head", "cursor"}
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    action: Option<SyncAction>,
}

#[derive(Subcommand)]
enum SyncAction {
    /// How far the server holds this device's records, and how many wait to go up
    Status,
}

#[derive(Subcommand)]
enum DispatchCommand {
    /// Check a channel configuration (JSON, no secrets) and save it in the database
    Configure { file: PathBuf },
    /// Print the saved channel configuration
    Show,
    /// Send queued pushes until stopped (secrets from GGZY_SECRET_* variables)
    Run {
        /// How often to look for due pushes when none are waiting, in ms
        #[arg(long, default_value_t = 500)]
        poll_ms: u64,
        /// Stop once nothing is due (for scripts and tests)
        #[arg(long)]
        until_idle: bool,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; without --password-stdin a one-time password is generated and shown once
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: String,
        /// center_staff | supervisor_staff | supervisor | admin
        #[arg(long)]
        role: StaffRole,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// Read the password from standard input
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users
    List,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the SM3 chain and hold every table to it; exit 0 when intact, 1 naming the first broken record
    Verify {
        /// A head printed earlier by `ggzy audit head` (SEQ:HASH): the chain must still hold it
        #[arg(long, value_name = "SEQ:HASH")]
        expect_head: Option<ggzy_core::audit::Head>,
        /// The sync server (URL): each series must also hold the head the server keeps of it
        #[arg(long, value_name = "URL")]
        server: Option<String>,
        /// This desktop's sync token (better given in the environment than on the command line)
        #[arg(
            long,
            env = "GGZY_SYNC_TOKEN",
            hide_env_values = true,
            requires = "server"
        )]
        token: Option<String>,
        /// Verify an evidence pack (5.2c) instead, without any database: every byte of it
        #[arg(long, value_name = "FILE", conflicts_with = "server")]
        pack: Option<std::path::PathBuf>,
    },
    /// Print the head of this database's chain as one line, SEQ:HASH, to keep elsewhere
    Head,
    /// Export the evidence pack of a period (5.2c) for a third-party assessor; the export is audited
    Pack {
        /// The period's first day, YYYY-MM-DD (events by their own day)
        #[arg(long)]
        from: chrono::NaiveDate,
        /// The period's last day, YYYY-MM-DD
        #[arg(long)]
        to: chrono::NaiveDate,
        /// Where to write the pack
        #[arg(long, value_name = "FILE")]
        out: std::path::PathBuf,
    },
    /// Queue the head now for the anchor's recipients (settings anchor_recipients); a dispatcher sends it
    Anchor,
}

#[derive(Args)]
struct RejectsArgs {
    /// Include lines already fixed and accepted
    #[arg(long)]
    all: bool,
    #[arg(long)]
    json: bool,
    #[command(subcommand)]
    action: Option<RejectsAction>,
}

#[derive(Subcommand)]
enum RejectsAction {
    /// Submit every open refused line again (after fixing its cause)
    Retry,
}

#[derive(Subcommand)]
enum SettingsCommand {
    Set {
        key: String,
        value: String,
    },
    List,
    /// The contact rules (3.4) as JSON; with FILE, check and save them
    Contacts {
        file: Option<PathBuf>,
    },
}

/// Who the CLI acts as in the audit trail.
fn operator() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("GGZY_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("错误 [{}]：{e}", e.code());
            ExitCode::from(2)
        }
    }
}

/// A failure the CLI reports: the store's, or the dispatcher's setup.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Dispatch(#[from] SetupError),
    #[error("联系规则有误：{0}")]
    Contacts(String),
    #[error(transparent)]
    Sync(#[from] ggzy_sync::SyncError),
}

impl CliError {
    /// A database failure names the file it happened on.
    fn naming(self, path: &std::path::Path) -> Self {
        match self {
            CliError::Store(e) | CliError::Dispatch(SetupError::Store(e)) => {
                CliError::Store(e.naming(path))
            }
            other => other,
        }
    }

    fn code(&self) -> ErrorCode {
        match self {
            CliError::Store(e) | CliError::Dispatch(SetupError::Store(e)) => e.code(),
            CliError::Dispatch(SetupError::LockFile(..)) => ErrorCode::WriteFailed,
            CliError::Dispatch(_) => ErrorCode::DispatchSetup,
            CliError::Contacts(_) => ErrorCode::InvalidContactRules,
            CliError::Sync(ggzy_sync::SyncError::Store(e)) => e.code(),
            CliError::Sync(ggzy_sync::SyncError::Unreachable { .. }) => {
                ErrorCode::ServerUnreachable
            }
            CliError::Sync(ggzy_sync::SyncError::Refused { .. }) => ErrorCode::ServerRefused,
        }
    }
}

async fn dispatch(
    store: &Store,
    path: &std::path::Path,
    command: DispatchCommand,
) -> Result<ExitCode, CliError> {
    let secrets = ggzy_dispatch::secrets::Env;
    match command {
        DispatchCommand::Configure { file } => {
            let json = std::fs::read_to_string(&file).map_err(|source| StoreError::Read {
                what: format!(" {}", file.display()),
                source,
            })?;
            let config = deployment::configure(store, &json, &secrets, &operator()).await?;
            println!(
                "推送通道已保存：短信 {} 家，电子邮件{}，钉钉{}，企业微信{}",
                config.sms.len(),
                if config.email.is_some() {
                    "已配置"
                } else {
                    "未配置"
                },
                if config.dingtalk.is_some() {
                    "已配置"
                } else {
                    "未配置"
                },
                if config.wecom.is_some() {
                    "已配置"
                } else {
                    "未配置"
                },
            );
        }
        DispatchCommand::Show => match store.dispatch_config().await? {
            Some(json) => println!("{json}"),
            None => println!("尚未配置推送通道：用 ggzy dispatch configure FILE 保存"),
        },
        DispatchCommand::Run {
            poll_ms,
            until_idle,
        } => {
            let _lock = deployment::lock(path)?;
            let Some((dispatcher, config)) = deployment::dispatcher(store, &secrets).await? else {
                eprintln!("尚未配置推送通道：用 ggzy dispatch configure FILE 保存后再运行");
                return Ok(ExitCode::from(1));
            };
            if let Some(r) = &config.receipts {
                let server =
                    ggzy_dispatch::receipts::Server::bind(&r.listen, store.clone(), &secrets)
                        .await?;
                tokio::spawn(server.serve());
            }
            // Draws made on this database: no answer in time calls the next backup.
            let (clocks, waker) = (store.clone(), dispatcher.waker());
            tokio::spawn(async move { clocks.keep_clocks(&waker).await });
            if until_idle {
                store.take_over_leases().await?;
                let mut sent = 0;
                loop {
                    let n = dispatcher.drain().await?;
                    if n == 0 && !store.dispatch_pending().await? {
                        break;
                    }
                    sent += n;
                    if n == 0 {
                        tokio::time::sleep(std::time::Duration::from_millis(poll_ms)).await;
                    }
                }
                println!("发送完毕：本次处理 {sent} 条");
            } else {
                dispatcher
                    .run(std::time::Duration::from_millis(poll_ms))
                    .await?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The sync server at `server` with this desktop's token, or what is missing.
fn sync_client(server: &str, token: Option<&str>) -> Result<ggzy_sync::Client, CliError> {
    let token = token.ok_or_else(|| {
        StoreError::invalid(
            ErrorCode::Invalid,
            "须提供本机的同步令牌：环境变量 GGZY_SYNC_TOKEN 或 --token（由服务器管理员以 ggzy-server device add 发放）",
        )
    })?;
    Ok(ggzy_sync::Client::new(server, token))
}

async fn sync(store: &Store, args: SyncArgs) -> Result<ExitCode, CliError> {
    let round = match (&args.action, &args.server) {
        (Some(SyncAction::Status), _) => ggzy_sync::Round::default(),
        (None, Some(server)) => {
            sync_client(server, args.token.as_deref())?
                .round(store)
                .await?
        }
        (None, None) => {
            return Err(StoreError::invalid(
                ErrorCode::Invalid,
                "请用 --server 指定同步服务器地址，如 --server http://192.168.1.10:8790；只看进度用 ggzy sync status",
            )
            .into())
        }
    };
    let state = store.uploaded().await?;
    let conflicts = store.conflicts_open().await?;
    let downloaded = store.downloaded().await?;
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "uploaded": round.sent.stored,
                "handed": round.sent.handed,
                "downloaded": round.received.records,
                "conflicts": conflicts,
                "waiting": state.waiting,
                "head": state.seq,
                "cursor": downloaded,
            })
        );
    } else if args.action.is_some() {
        println!(
            "服务器已保存本机记录到第 {} 条；待上传 {} 条；已取回全局第 {downloaded} 条以前的记录；待处理的同步冲突 {conflicts} 项",
            state.seq, state.waiting
        );
    } else {
        println!(
            "上传 {} 条，交由服务器发送的推送 {} 条，取回其他设备的记录 {} 条（其中事件 {} 件）；服务器已保存本机记录到第 {} 条，待上传 {} 条；待处理的同步冲突 {conflicts} 项",
            round.sent.stored, round.sent.handed, round.received.records, round.received.events, state.seq, state.waiting
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn run(cli: Cli) -> Result<ExitCode, CliError> {
    if let Command::Audit(AuditCommand::Verify {
        pack: Some(file),
        expect_head,
        ..
    }) = &cli.command
    {
        // An assessor's check: the pack alone, no database at all.
        return verify_pack(file, *expect_head);
    }
    let path = match cli.db {
        Some(p) => p,
        None => Store::default_path().ok_or_else(|| {
            StoreError::invalid(
                ErrorCode::NoDataDir,
                "找不到数据目录：请用 --db 指定数据库文件",
            )
        })?,
    };
    let command = cli.command;
    on(&path, command).await.map_err(|e| e.naming(&path))
}

/// `command` on the database at `path`.
async fn on(path: &std::path::Path, command: Command) -> Result<ExitCode, CliError> {
    if let Command::Audit(command @ (AuditCommand::Verify { .. } | AuditCommand::Head)) = &command {
        // An auditor's look: the file as it is, never created or changed.
        let store = Store::open_read_only(path).await?;
        let code = audit(&store, command).await?;
        store.close().await;
        return Ok(code);
    }
    let store = ggzy_app::open::open_store(path).await?;
    let code = match command {
        Command::Sync(args) => sync(&store, args).await?,
        Command::User(UserCommand::Add {
            username,
            name,
            role,
            phone,
            email,
            password_stdin,
        }) => {
            let password = if password_stdin {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .map_err(|source| StoreError::Read {
                        what: "标准输入".into(),
                        source,
                    })?;
                Some(s.trim_end_matches(['\r', '\n']).to_owned())
            } else {
                None
            };
            let new = NewUser {
                username: username.clone(),
                name,
                role,
                phone,
                email,
                password,
            };
            match store.add_user(new, &operator()).await? {
                Some(otp) => println!(
                    "已添加用户 {username}。一次性密码：{otp}\n（仅显示这一次，首次登录须修改）"
                ),
                None => println!("已添加用户 {username}"),
            }
            ExitCode::SUCCESS
        }
        Command::User(UserCommand::List) => {
            for u in store.users().await? {
                let state = if u.active { "在岗" } else { "停用" };
                println!("{}\t{}\t{}\t{}", u.username, u.name, u.role, state);
            }
            ExitCode::SUCCESS
        }
        Command::Import { file } => {
            let interactive = std::io::stderr().is_terminal();
            let progress = |n: u64| {
                if interactive {
                    eprint!("\r已读取 {n} 行");
                }
            };
            let summary = if file == "-" {
                store
                    .import(std::io::stdin().lock(), "import:-", progress)
                    .await?
            } else {
                let f = std::fs::File::open(&file).map_err(|source| StoreError::Read {
                    what: format!("文件 {file}"),
                    source,
                })?;
                store
                    .import(
                        BufReader::with_capacity(1 << 20, f),
                        &format!("import:{file}"),
                        progress,
                    )
                    .await?
            };
            if interactive {
                eprintln!();
            }
            print_summary(&summary);
            if summary.refused.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Command::Pushes { project, json } => {
            let filter = PushFilter {
                project,
                ..Default::default()
            };
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            store
                .for_each_push(&filter, |p| {
                    let line = if json {
                        json!({
                            "id": p.id,
                            "idempotency_key": p.id,
                            "event_id": p.event_id,
                            "project": p.project,
                            "clause": p.clause,
                            "rule": p.rule,
                            "recipient": {"role": p.recipient_role, "id": p.recipient_id, "name": p.recipient_name},
                            "channel": p.channel,
                            "address": p.address,
                            "text": p.text,
                            "status": p.status,
                            "attempts": p.attempts,
                            "created_at": p.created_at,
                        })
                        .to_string()
                    } else {
                        format!(
                            "{}\t{}\t{}:{}\t{}\t{}\t{}",
                            p.clause, p.event_id, p.recipient_role, p.recipient_id, p.channel, p.status, p.text
                        )
                    };
                    let _ = writeln!(out, "{line}");
                })
                .await?;
            let _ = out.flush();
            ExitCode::SUCCESS
        }
        Command::Experts(ExpertsCommand::Import { file }) => {
            let bytes = std::fs::read(&file).map_err(|source| StoreError::Read {
                what: format!("文件 {}", file.display()),
                source,
            })?;
            let name = file
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let r = store.import_experts(&bytes, &name, "cli").await?;
            if r.refused.is_empty() {
                println!(
                    "名册共 {} 行：新增 {} 名，更新 {} 名，未变 {} 名",
                    r.rows, r.added, r.updated, r.unchanged
                );
                ExitCode::SUCCESS
            } else {
                for x in &r.refused {
                    eprintln!("第 {} 行 [{}]：{}", x.line, x.column, x.message);
                }
                eprintln!(
                    "名册有 {} 行不符合要求，未导入任何专家：请修正后重新导入",
                    r.refused.len()
                );
                ExitCode::from(1)
            }
        }
        Command::Experts(ExpertsCommand::List {
            query,
            specialty,
            json,
        }) => {
            let mut q = ggzy_store::experts::ExpertQuery {
                text: query,
                specialty,
                limit: 500,
                ..Default::default()
            };
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            loop {
                let page = store.experts(&q).await?;
                for e in &page.items {
                    let e = e.clone().masked();
                    let line = if json {
                        serde_json::to_string(&e).map_err(StoreError::from)?
                    } else {
                        format!(
                            "{}\t{}\t{}\t{}\t{}\t{}",
                            e.id,
                            e.name,
                            e.id_number,
                            e.specialties.join(";"),
                            e.employer,
                            e.status.zh()
                        )
                    };
                    writeln!(out, "{line}").map_err(|source| StoreError::Read {
                        what: "标准输出".into(),
                        source,
                    })?;
                }
                q.offset += page.items.len() as i64;
                if page.items.is_empty() || q.offset >= page.total {
                    break;
                }
            }
            ExitCode::SUCCESS
        }
        Command::Draw(DrawCommand::Run {
            project,
            request,
            json,
        }) => {
            let text = std::fs::read_to_string(&request).map_err(|source| StoreError::Read {
                what: format!("文件 {}", request.display()),
                source,
            })?;
            let request: ggzy_core::draw::Request = serde_json::from_str(&text).map_err(|e| {
                StoreError::invalid(
                    ggzy_core::error::ErrorCode::Invalid,
                    format!("抽取请求 {} 无效：{e}", request.display()),
                )
            })?;
            let committed = store.commit_draw(&project, request, "cli").await?;
            // Connected to a sync server: the server records the commitment
            // before anything is drawn, or nothing is.
            if let Some(server) = store.connected().await? {
                let token = std::env::var("GGZY_SYNC_TOKEN").ok();
                if let Err(e) = sync_client(&server, token.as_deref())?.upload(&store).await {
                    eprintln!(
                        "抽取须先由同步服务器 {server} 记录承诺值，现在未能送达：本次抽取未进行（承诺值留在审计记录中）"
                    );
                    return Err(e.into());
                }
            }
            let d = store.finish_draw(committed).await?;
            let outcome = d.outcome.clone().ok_or_else(|| {
                StoreError::Corrupt(format!("抽取 {} 已完成却没有记录结果", d.id))
            })?;
            if json {
                println!(
                    "{}",
                    json!({
                        "id": d.id,
                        "drawn": outcome.drawn(),
                        "backups": outcome.backups(),
                        "excluded": outcome.excluded,
                        "commitment": d.commitment,
                        "seed": d.seed,
                    })
                );
            } else {
                println!(
                    "抽取 {}：抽中 {} 名（已推送 4.6 通知），备选 {} 名；承诺值 {}，种子 {}",
                    d.id,
                    outcome.drawn().len(),
                    outcome.backups().len(),
                    d.commitment,
                    d.seed.unwrap_or_default()
                );
            }
            ExitCode::SUCCESS
        }
        Command::Draw(DrawCommand::Verify { id }) => {
            let check = store.verify_draw(&id).await?;
            if check.problems.is_empty() {
                println!("抽取 {id} 可复现：按记录的条件与公开的种子重新抽取，结果一致");
                ExitCode::SUCCESS
            } else {
                for p in &check.problems {
                    eprintln!("{p}");
                }
                eprintln!("抽取 {id} 未能复现");
                ExitCode::from(1)
            }
        }
        Command::Draw(DrawCommand::Reply {
            id,
            expert,
            confirm,
            ..
        }) => {
            let reply = if confirm {
                Reply::Confirmed
            } else {
                Reply::Declined
            };
            let a = store.reply_call(&id, &expert, reply, "cli").await?;
            println!("已登记：{}", reply.zh());
            if a.called > 0 {
                println!("已通知备选专家 {} 名（4.6）", a.called);
            }
            for (code, n) in &a.short {
                println!("专业 {code} 尚缺 {n} 名：备选专家已用尽，已提醒抽取人员");
            }
            ExitCode::SUCCESS
        }
        Command::Draw(DrawCommand::Status { id, json }) => {
            store.expire_calls(chrono::Utc::now()).await?;
            let tally = store.draw_tally(&id).await?;
            if json {
                println!("{}", serde_json::to_string(&tally).expect("plain values"));
            } else {
                println!("专业  应抽  已通知  确认  不参加/超时  待答复  剩余备选  缺额");
                for t in &tally {
                    println!(
                        "{:<5} {:>4}  {:>6}  {:>4}  {:>11}  {:>6}  {:>8}  {:>4}",
                        t.code,
                        t.wanted,
                        t.called,
                        t.confirmed,
                        t.declined,
                        t.waiting,
                        t.backups_left,
                        t.short
                    );
                }
            }
            ExitCode::SUCCESS
        }
        Command::Draw(DrawCommand::SignIn { id, id_number }) => {
            let e = store.sign_in(&id, &id_number, "cli").await?;
            println!("已签到：{}（{}）", e.name, e.id);
            ExitCode::SUCCESS
        }
        Command::Backup { file } => {
            store.backup_to(&file).await?;
            let bytes = std::fs::metadata(&file)
                .map(|m| m.len())
                .unwrap_or_default();
            println!(
                "已备份到 {}（{:.1} MB）：可用 ggzy --db {} audit verify 检查",
                file.display(),
                bytes as f64 / 1e6,
                file.display()
            );
            ExitCode::SUCCESS
        }
        Command::Audit(AuditCommand::Anchor) => {
            match store.anchor(chrono::Utc::now()).await? {
                Anchored::Sent {
                    event_id,
                    head,
                    pushes,
                } => {
                    println!("链头 {head} 已记为存证事件 {event_id}：{pushes} 条推送排队，由推送服务发出");
                    ExitCode::SUCCESS
                }
                Anchored::NoRecipients => {
                    eprintln!("尚未设置存证接收人：ggzy settings set anchor_recipients \"姓名 手机号 邮箱\"（每人一行）");
                    ExitCode::from(1)
                }
            }
        }
        Command::Audit(AuditCommand::Pack { from, to, out }) => {
            if from > to {
                eprintln!("--from {from} 晚于 --to {to}：请给出先后正确的两天");
                return Ok(ExitCode::from(2));
            }
            let pack = store.evidence_pack(from, to, &operator()).await?;
            std::fs::write(&out, &pack.bytes).map_err(|source| StoreError::Io {
                path: out.clone(),
                source,
            })?;
            println!(
                "证据包已写入 {}：{} 个事件，{} 条推送，{} 条审计记录；评估方可用 ggzy audit verify --pack 离线校验",
                out.display(),
                pack.events,
                pack.pushes,
                pack.records
            );
            ExitCode::SUCCESS
        }
        Command::Audit(_) => unreachable!("opened read-only above"),
        Command::Rejects(RejectsArgs { all, json, action }) => match action {
            Some(RejectsAction::Retry) => {
                let summary = store.retry_rejects(None).await?;
                print_summary(&summary);
                if summary.refused.is_empty() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }
            None => {
                for r in store.rejects(all).await? {
                    if json {
                        println!("{}", json!(r));
                    } else {
                        println!(
                            "#{} {} 第 {} 行（{}）[{}] {}",
                            r.id,
                            r.source,
                            r.line_no.unwrap_or_default(),
                            r.event_id.as_deref().unwrap_or("无 id"),
                            r.code,
                            r.message
                        );
                    }
                }
                ExitCode::SUCCESS
            }
        },
        Command::Settings(SettingsCommand::Set { key, value }) => {
            store.set_setting(&key, &value, &operator()).await?;
            println!("已设置 {key}");
            ExitCode::SUCCESS
        }
        Command::Settings(SettingsCommand::Contacts { file: None }) => {
            let rules = store.contact_rules().await?;
            println!(
                "{}",
                serde_json::to_string_pretty(&rules).expect("rules serialise")
            );
            ExitCode::SUCCESS
        }
        Command::Settings(SettingsCommand::Contacts { file: Some(file) }) => {
            let json = std::fs::read_to_string(&file).map_err(|source| StoreError::Read {
                what: format!(" {}", file.display()),
                source,
            })?;
            let rules: ggzy_core::reach::ContactRules =
                serde_json::from_str(&json).map_err(|e| CliError::Contacts(e.to_string()))?;
            deployment::save_contact_rules(&store, &rules, &operator()).await?;
            println!("联系规则已保存：此后受理的事件按新规则推送");
            ExitCode::SUCCESS
        }
        Command::Settings(SettingsCommand::List) => {
            for (k, v) in store.settings().await? {
                println!("{k}\t{v}");
            }
            ExitCode::SUCCESS
        }
        Command::Dispatch(command) => dispatch(&store, path, command).await?,
        Command::Demo => {
            let summary = store.seed_demo().await?;
            print_summary(&summary);
            println!("演示数据已就绪：{}", path.display());
            if summary.refused.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
    };
    store.close().await;
    Ok(code)
}

async fn audit(store: &Store, command: &AuditCommand) -> Result<ExitCode, CliError> {
    match command {
        AuditCommand::Head => {
            println!("{}", store.audit_head().await?);
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Anchor | AuditCommand::Pack { .. } => {
            unreachable!("writes: opened read-write")
        }
        AuditCommand::Verify {
            expect_head,
            server,
            token,
            ..
        } => {
            let expect_head = *expect_head;
            let v = store.verify_audit_expecting(expect_head, |_, _| {}).await?;
            match v.broken {
                None => {
                    println!(
                        "审计链完整：{} 条记录，覆盖 {} 个事件、{} 条推送；各表与审计记录一致",
                        v.records, v.events, v.pushes
                    );
                    if let Some(head) = expect_head {
                        println!("所持链头 {head} 仍在链中");
                    }
                    if let Some(server) = server {
                        let checks = sync_client(server, token.as_deref())?
                            .check_heads(store)
                            .await?;
                        if checks.is_empty() {
                            println!("服务器尚未保存本库任何设备的记录");
                        }
                        for c in &checks {
                            println!("{c}");
                        }
                        if checks.iter().any(|c| c.found != ggzy_sync::Found::Same) {
                            return Ok(ExitCode::from(1));
                        }
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Some(b) => {
                    println!("审计链已被破坏：{b}");
                    if let Some(seq) = b.seq {
                        println!("首个异常记录：第 {seq} 条");
                    }
                    Ok(ExitCode::from(1))
                }
            }
        }
    }
}

/// `ggzy audit verify --pack FILE`: exit 0 when every byte holds, 1 naming
/// the first line that does not.
fn verify_pack(
    file: &std::path::Path,
    expect_head: Option<ggzy_core::audit::Head>,
) -> Result<ExitCode, CliError> {
    let bytes = std::fs::read(file).map_err(|source| StoreError::Read {
        what: file.display().to_string(),
        source,
    })?;
    match ggzy_core::pack::verify(&bytes) {
        Ok(r) => {
            println!(
                "证据包完整：{}（{} 至 {}），{} 条审计记录，{} 个事件，{} 条推送；导出者 {}，导出于 {}",
                r.manifest.center,
                r.manifest.from,
                r.manifest.to,
                r.records,
                r.events,
                r.pushes,
                r.manifest.exported_by,
                r.manifest.exported_at
            );
            for (device, first, head) in &r.devices {
                println!("设备 {device}：第 {first} 条起，链头 {head}");
            }
            println!(
                "包中存证的链头 {} 个与审计记录相符（另有 {} 个早于包中首条记录）；请与行政监督部门保存的存证核对",
                r.anchors_matched, r.anchors_before
            );
            println!("导出记录：{}", r.export);
            if let Some(head) = expect_head {
                let held = r
                    .devices
                    .iter()
                    .any(|(_, first, last)| *first <= head.seq && head.seq <= last.seq)
                    && bytes_hold(&bytes, &head);
                if !held {
                    println!("所持链头 {head} 不在证据包的审计记录中");
                    return Ok(ExitCode::from(1));
                }
                println!("所持链头 {head} 在证据包中");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("证据包未通过校验：{e}");
            Ok(ExitCode::from(1))
        }
    }
}

/// Whether a verified pack holds a record with this seq and hash.
fn bytes_hold(bytes: &[u8], head: &ggzy_core::audit::Head) -> bool {
    let hash = ggzy_core::audit::hex(&head.hash);
    String::from_utf8_lossy(bytes).lines().any(|l| {
        matches!(serde_json::from_str(l), Ok(ggzy_core::pack::Line::Record(r)) if r.seq == head.seq && r.hash == hash)
    })
}

fn print_summary(s: &Summary) {
    println!(
        "接受 {} 条，重复 {} 条，拒绝 {} 条；生成推送 {} 条",
        s.accepted,
        s.duplicates,
        s.refused.len(),
        s.pushes
    );
    for r in &s.refused {
        if let LineOutcome::Refused { event_id, refusal } = &r.outcome {
            println!(
                "第 {} 行（{}）[{}] {}",
                r.line,
                event_id.as_deref().unwrap_or("无 id"),
                refusal.code(),
                refusal
            );
        }
    }
}
